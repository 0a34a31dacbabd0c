"""Small inline SVG charts for the HTML report, generated here: no JavaScript, nothing loaded.

Values are integers (cents, counts, basis points) and every coordinate is integer arithmetic, so
no money goes through a float. Labels are escaped. The ``<svg>`` elements carry no namespace
attribute: inline SVG in HTML does not need one, and the report then names no URL at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from html import escape

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"'


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def nice_max(v: int) -> int:
    """The smallest 1, 2, 2.5 or 5 × 10^k that is at least ``v`` (and at least 1)."""
    if v <= 1:
        return 1
    p = 1
    while True:
        for cand in (p, 2 * p, *((25 * p // 10,) if p >= 10 else ()), 5 * p):
            if cand >= v:
                return cand
        p *= 10


def half(top: int) -> str:
    """Half of an integer as text, without a float."""
    return str(top // 2) if top % 2 == 0 else f"{top // 2}.5"


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet" {FONT} font-size="12">'
            f"<title>{escape(label)}</title>" + "".join(body) + "</svg>")


def _text(x: int, y: int, s: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}"{" " + extra if extra else ""}>{escape(s)}</text>'


def hbars(items: Sequence[tuple[str, int, str]], *, label: str, max_value: int | None = None,
          colours: Sequence[str] | None = None, width: int = 1040, label_width: int = 220,
          text_width: int = 330, bar_height: int = 18, gap: int = 6) -> str:
    """Horizontal bars: (label, value, text shown after the bar)."""
    if not items:
        return _svg(width, 40, label, [_text(8, 24, "nothing to show", extra='fill="#666"')])
    top = max(max_value or 0, max(v for _, v, _ in items), 1)
    plot = width - label_width - text_width
    height = len(items) * (bar_height + gap) + gap + 4
    body = []
    for i, (name, v, text) in enumerate(items):
        y = gap + i * (bar_height + gap)
        w = max(v, 0) * plot // top
        fill = (colours[i] if colours else colour(0))
        body.append(_text(label_width - 8, y + bar_height - 5, name, "end"))
        body.append(f'<rect x="{label_width}" y="{y}" width="{plot}" height="{bar_height}" fill="#eef1f5"/>')
        body.append(f'<rect x="{label_width}" y="{y}" width="{w}" height="{bar_height}" fill="{fill}">'
                    f"<title>{escape(name)}: {escape(text)}</title></rect>")
        body.append(_text(label_width + plot + 6, y + bar_height - 5, text))
    return _svg(width, height, label, body)


def vbars(categories: Sequence[str], series: Sequence[tuple[str, str, Sequence[int]]], *, label: str,
          value_text: Sequence[Sequence[str]] | None = None, tick: Callable[[Fraction], str] | None = None,
          width: int = 520, height: int = 260) -> str:
    """Grouped vertical bars: ``series`` is (name, colour, one value per category); with one series
    no legend is drawn. ``value_text[s][c]`` is written above each bar; ``tick`` formats the axis
    values (0, half and the top of the scale, exact fractions of the values' unit)."""
    left, right, top_pad, bottom = 70, 10, 30 if len(series) > 1 else 12, 28
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [v for _, _, vs in series for v in vs]
    top = nice_max(max(values, default=0))
    body = []
    ticks = [tick(Fraction(top * k, 2)) for k in range(3)] if tick else ["0", half(top), str(top)]
    for k, t in enumerate(ticks):
        y = top_pad + plot_h - k * plot_h // 2
        body.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#d5dae1"/>')
        body.append(_text(left - 6, y + 4, t, "end", 'fill="#555"'))
    n_cat = max(len(categories), 1)
    slot = plot_w // n_cat
    n_ser = max(len(series), 1)
    bar = max(4, min(40, (slot - 12) // n_ser))
    for c, cat in enumerate(categories):
        x0 = left + c * slot + (slot - bar * n_ser) // 2
        body.append(_text(left + c * slot + slot // 2, height - 10, cat, "middle"))
        for s, (name, fill, vs) in enumerate(series):
            v = max(vs[c], 0)
            h = v * plot_h // top
            x, y = x0 + s * bar, top_pad + plot_h - h
            tip = value_text[s][c] if value_text else str(v)
            body.append(f'<rect x="{x}" y="{y}" width="{bar - 2}" height="{h}" fill="{fill}">'
                        f"<title>{escape(name)} {escape(cat)}: {escape(tip)}</title></rect>")
            if value_text and v > 0 and n_ser * n_cat <= 28:
                body.append(_text(x + (bar - 2) // 2, y - 4, value_text[s][c], "middle", 'font-size="10"'))
    if len(series) > 1:
        x = left
        for name, fill, _ in series:
            body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{fill}"/>')
            body.append(_text(x + 16, 16, name))
            x += 24 + 8 * len(name)
    return _svg(width, height, label, body)
