"""The field count of each line (the ragged-row check of FedEx files) counted on the bytes for files
without quotes (issue 17) gives what Python's csv module gives, and leaves the others to it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from recoup.invoices.charges import counts
from recoup.invoices.charges.columns import field_counts


def _by_csv(path: Path, sep: str) -> list[int]:
    """``field_counts`` as it was: the csv module over the decoded text."""
    out: list[int] = []
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=sep)
        for rec in reader:
            while len(out) < reader.line_num - 1:
                out.append(0)
            out.append(len(rec))
    return out


PLAIN = [
    b"a,b,c\n1,2,3\n",
    b"\xef\xbb\xbfa,b,c\n1,2\n\n\n4,5,6,7\n",
    b"a,b,c\n1,2,3",                                 # no line end at the end
    b"a,b\n,,\n , \n\n",
    b"a,b\n\xff\xfe,\xc3\n\xe2\x82,x\n",             # not UTF-8: replaced, never a separator
    b"\xef\xbb\xbf\n,\n",
    b"",
    b"\n",
    b"x;y;z\n1;2\n",
    b"only one field\n",
]


@pytest.mark.parametrize("data", PLAIN)
@pytest.mark.parametrize("sep", [",", ";"])
@pytest.mark.parametrize("block", [1, 5, 1 << 20])
def test_plain_files_counted_on_the_bytes_as_the_csv_module_counts(tmp_path: Path, data: bytes, sep: str,
                                                                   block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counts, "BLOCK", block)
    p = tmp_path / "f.csv"
    p.write_bytes(data)
    plain = counts.plain_field_counts(p, sep)
    assert plain is not None
    assert plain.tolist() == _by_csv(p, sep)
    assert field_counts(p, sep).tolist() == _by_csv(p, sep)


@pytest.mark.parametrize("data", [b'a,b\n"1,2",3\n', b"a,b\r\n1,2\r\n", b"a,b\n1\x002,3\n", b"\xef\xbb",
                                  b"a,b\n" + b"x" * (csv.field_size_limit() + 1) + b",1\n"])
def test_files_with_quotes_line_breaks_nul_or_huge_fields_are_left_to_the_csv_module(tmp_path: Path,
                                                                                     data: bytes) -> None:
    p = tmp_path / "f.csv"
    p.write_bytes(data)
    assert counts.plain_field_counts(p, ",") is None


def test_a_field_at_the_csv_limit_is_counted_as_the_csv_module_counts_it(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_bytes(b"a,b\n" + b"x" * csv.field_size_limit() + b",1\n")
    assert field_counts(p, ",").tolist() == _by_csv(p, ",") == [2, 2]
