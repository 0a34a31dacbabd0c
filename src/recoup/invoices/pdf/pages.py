"""Worker side: one pdfplumber page -> its text lines and the charge tables on it (text and table
extraction; see the package docstring, "How pages are read")."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from recoup.invoices.pdf.layouts import data, norm


@dataclass
class _Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float


@dataclass
class _Phrase:
    words: list[_Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1


@dataclass
class _Column:
    text: str
    x0: float
    x1: float


def _layout_objects(page: Any) -> tuple[list[tuple[str, float, float, float, float]], list[dict[str, Any]]]:
    """The upright characters (text, x0, x1, top, bottom) and the straight edges (rules, box sides) of a
    page, straight from the pdfminer layout pdfplumber builds. pdfplumber's own per-character objects
    cost about as much again as the parsing itself, and this reader needs only the positions."""
    from pdfminer.layout import LTChar, LTContainer, LTCurve

    height = float(page.height)
    mx, mtop = float(page.mediabox[0]), float(page.mediabox[1])
    chars: list[tuple[str, float, float, float, float]] = []
    edges: list[dict[str, Any]] = []
    stack = list(reversed(page.layout._objs))
    while stack:
        obj = stack.pop()
        if isinstance(obj, LTChar):
            if obj.upright:
                chars.append((obj.get_text(), obj.x0 + mx, obj.x1 + mx, height - obj.y1 + mtop, height - obj.y0 + mtop))
        elif isinstance(obj, LTContainer):
            stack.extend(reversed(obj._objs))
        elif isinstance(obj, LTCurve):
            pts = [(x + mx, height - y + mtop) for x, y in obj.pts]
            if len(pts) == 4 and obj.__class__.__name__ == "LTRect":
                pts.append(pts[0])
            for (x0, y0), (x1, y1) in itertools.pairwise(pts):
                if x0 == x1 or y0 == y1:
                    top, bottom = min(y0, y1), max(y0, y1)
                    edges.append({"object_type": "line_edge", "x0": min(x0, x1), "x1": max(x0, x1),
                                  "top": top, "bottom": bottom, "doctop": top, "width": abs(x1 - x0),
                                  "height": bottom - top, "orientation": "v" if x0 == x1 else "h"})
    return chars, edges


def _phrase_lines(chars: list[tuple[str, float, float, float, float]]) -> list[list[_Phrase]]:
    """Characters grouped into lines (centre within the first character's band), words (a space, or a gap of more than 0.2 em:
    a space is about 0.25 em, kerning far less) and phrases (words less than 0.75 em apart: one cell;
    a column gap is wider)."""
    rows: list[list[tuple[str, float, float, float, float]]] = []
    top = bottom = -1.0
    for c in sorted(chars, key=lambda c: (c[3], c[1])):
        mid = (c[3] + c[4]) / 2
        if rows and top - 1 <= mid <= bottom + 1:  # the band of the line's first character: not grown, so
            rows[-1].append(c)                      # a centred cell cannot bridge a wrapped cell's lines
        else:
            rows.append([c])
            top, bottom = c[3], c[4]
    lines = []
    for row in rows:
        row.sort(key=lambda c: c[1])
        words: list[_Word] = []
        cur: _Word | None = None
        last: tuple[str, float, float, float, float] | None = None
        for c in row:
            text, x0, x1, t, b = c
            if last is not None and text == last[0] and abs(x0 - last[1]) < 0.5 and abs(t - last[3]) < 0.5:
                continue                                     # overprinted (fake bold) duplicate
            last = c
            if text.isspace():
                cur = None
                continue
            size = max(b - t, 1.0)
            if cur is not None and x0 - cur.x1 <= 0.2 * size and x0 >= cur.x0:
                cur.text += text
                cur.x1 = max(cur.x1, x1)
                cur.top, cur.bottom = min(cur.top, t), max(cur.bottom, b)
            else:
                cur = _Word(text, x0, x1, t, b)
                words.append(cur)
        if not words:
            continue
        phrases = [_Phrase([words[0]])]
        for prev, w in itertools.pairwise(words):
            size = max(prev.bottom - prev.top, w.bottom - w.top, 1.0)
            if w.x0 - prev.x1 <= 0.75 * size:
                phrases[-1].words.append(w)
            else:
                phrases.append(_Phrase([w]))
        lines.append(phrases)
    return lines


def _header_columns(phrases: list[_Phrase]) -> list[_Column] | None:
    """The columns of a header line, or None if the line is not a charge-table header (it must name a
    tracking number column and an amount or charge column). A phrase that is not one known header name
    is split into known names where it can be (closely set headers)."""
    d = data()
    cols: list[_Column] = []
    for ph in phrases:
        if norm(ph.text) in d.known_headers:
            cols.append(_Column(ph.text, ph.x0, ph.x1))
            continue
        ws, i, unknown = ph.words, 0, None
        while i < len(ws):
            for k in range(min(5, len(ws) - i), 0, -1):
                t = " ".join(w.text for w in ws[i:i + k])
                if norm(t) in d.known_headers:
                    cols.append(_Column(t, ws[i].x0, ws[i + k - 1].x1))
                    unknown = None
                    i += k
                    break
            else:
                if unknown is not None:
                    unknown.text += " " + ws[i].text
                    unknown.x1 = ws[i].x1
                else:
                    unknown = _Column(ws[i].text, ws[i].x0, ws[i].x1)
                    cols.append(unknown)
                i += 1
    return cols if _is_header_cells([c.text for c in cols]) else None


def _is_header_cells(cells: Sequence[str | None]) -> bool:
    """A charge-table header: it names a tracking number column and an amount (or charge) column, and at
    least three of its cells, and no fewer than it has unknown ones, are header names (not a title line
    such as "Consignment charges for March")."""
    d = data()
    names = [norm(c or "") for c in cells]
    names = [n for n in names if n]
    known = [n for n in names if n in d.known_headers]
    return (bool(set(known) & d.tracking_headers) and bool(set(known) & d.amount_headers)
            and len(known) >= 3 and len(known) >= len(names) - len(known))


def _best_column(x0: float, x1: float, cols: list[_Column]) -> tuple[int, bool]:
    """(index of the column a span belongs to, whether it overlaps that column's header)."""
    best, best_ov = -1, 0.0
    for i, c in enumerate(cols):
        ov = min(x1, c.x1) - max(x0, c.x0)
        if ov > best_ov:
            best, best_ov = i, ov
    if best >= 0:
        return best, True
    dist = [max(c.x0 - x1, x0 - c.x1, 0.0) for c in cols]
    return dist.index(min(dist)), False


def _assign(phrases: list[_Phrase], cols: list[_Column]) -> list[str]:
    """The cells of a body line under the header's columns. A phrase goes whole to the column it overlaps
    (or the nearest); one that overlaps two columns' headers word by word is split between them."""
    cells: list[list[str]] = [[] for _ in cols]
    for ph in phrases:
        targets = [_best_column(w.x0, w.x1, cols) for w in ph.words]
        strong = {i for i, ov in targets if ov}
        if len(strong) <= 1:
            idx = strong.pop() if strong else _best_column(ph.x0, ph.x1, cols)[0]
            cells[idx].append(ph.text)
            continue
        prev: int | None = None
        for w, (i, ov) in zip(ph.words, targets, strict=True):
            j = i if ov or prev is None else prev
            cells[j].append(w.text)
            prev = j
    return [" ".join(c) for c in cells]


def _cell_rows(table: Any, words: list[_Word]) -> list[list[str]]:
    """The text of a ruled table's cells: each word goes to the cell its centre lies in."""
    rows = [[c for c in row.cells] for row in table.rows]
    texts: list[list[list[str]]] = [[[] for _ in row] for row in rows]
    for w in words:
        cx, cy = (w.x0 + w.x1) / 2, (w.top + w.bottom) / 2
        for r, row in enumerate(rows):
            hit = next((i for i, c in enumerate(row) if c and c[0] <= cx <= c[2] and c[1] <= cy <= c[3]), None)
            if hit is not None:
                texts[r][hit].append(w.text)
                break
    return [[" ".join(t) for t in row] for row in texts]


def page_data(page: Any, *, positions: bool) -> dict[str, Any]:
    """What the parent needs of one page: its text lines (phrases joined by two spaces), the phrases
    with their positions (first page only: boxed labels), and its charge tables as
    {"kind", "header": [cell], "rows": [[cell]]}."""
    chars, edges = _layout_objects(page)
    lines = _phrase_lines(chars)
    out: dict[str, Any] = {
        "words": len(chars),
        "lines": ["  ".join(p.text for p in line) for line in lines],
        "pos": [[(p.text, p.x0, p.x1) for p in line] for line in lines] if positions else None,
        "tables": [],
    }
    v = [e for e in edges if e["orientation"] == "v" and e["height"] >= 1]
    h = [e for e in edges if e["orientation"] == "h" and e["width"] >= 1]
    if len(v) >= 2 and len(h) >= 2:  # ruled tables: pdfplumber's lattice finder, given these edges
        words = [w for line in lines for ph in line for w in ph.words]
        found = page.find_tables({"vertical_strategy": "explicit", "horizontal_strategy": "explicit",
                                  "explicit_vertical_lines": v, "explicit_horizontal_lines": h})
        for table in found:
            rows = _cell_rows(table, words)
            for i, row in enumerate(rows[:3]):
                if _is_header_cells(row):
                    out["tables"].append({"kind": "ruled", "header": row, "rows": rows[i + 1:]})
                    break
        if any(t["rows"] for t in out["tables"]):
            return out
        out["tables"] = []  # e.g. only the header row is boxed: read the page by position
    cols: list[_Column] | None = None
    for line in lines:  # unruled: columns from the header line's words, rows by position
        hdr = _header_columns(line)
        if hdr is not None:
            cols = hdr
            out["tables"].append({"kind": "words", "header": [c.text for c in cols], "rows": []})
        elif cols is not None:
            out["tables"][-1]["rows"].append(_assign(line, cols))
    return out
