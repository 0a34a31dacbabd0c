"""Vectorised helpers the rules and their facts share: text and date columns as arrays, a row's
shipment, per-shipment first/last/any/sum over rows sorted by shipment, local days and local times."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

DAY_NS = 86_400_000_000_000
MIN_NS = 60_000_000_000


def _days(values: object) -> np.ndarray:
    """Dates (datetime64 / Timestamps / NaT) as int64 days since 1970-01-01; NaT as INT64 min."""
    return np.asarray(pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]").view("int64"))


NAT = np.iinfo(np.int64).min


def _dates(days: np.ndarray) -> list[dt.date]:
    return list(np.asarray(days, dtype="int64").view("datetime64[D]").astype(object))


def _fmt_local(ts: pd.Timestamp) -> str:
    s = ts.strftime("%Y-%m-%dT%H:%M%z")
    return s[:-2] + ":" + s[-2:]


def _offset_text(minutes: np.ndarray) -> list[str]:
    out = []
    for m in minutes.tolist():
        sign = "-" if m < 0 else "+"
        h, mm = divmod(abs(int(m)), 60)
        out.append(f"{sign}{h:02d}:{mm:02d}")
    return out


def _fmt_instants(ns: np.ndarray, off: np.ndarray, has_off: np.ndarray, tz: np.ndarray) -> list[str]:
    """Local 'YYYY-MM-DDTHH:MM+HH:MM' of UTC instants: in the recorded offset, else the time zone."""
    ns = np.asarray(ns, dtype=np.int64)
    if not len(ns):
        return []
    minutes = np.where(has_off, off, 0).astype(np.int64)
    rest = np.flatnonzero(~has_off)
    if len(rest):
        zones = pd.Series(tz[rest])
        for z, grp in zones.groupby(zones, sort=True).groups.items():
            j = rest[np.asarray(grp)]
            loc = pd.DatetimeIndex(pd.to_datetime(ns[j], utc=True)).tz_convert(str(z)).tz_localize(None)
            minutes[j] = (loc.to_numpy(dtype="datetime64[ns]").view("int64") - ns[j]) // MIN_NS
    local = (ns + minutes * MIN_NS).view("datetime64[ns]").astype("datetime64[m]")
    text = np.datetime_as_string(local, unit="m")
    return [a + b for a, b in zip(text.tolist(), _offset_text(minutes), strict=True)]


def format_local(instants_ns: np.ndarray, offsets: list[int | None], tz: str) -> list[str]:
    """'YYYY-MM-DDTHH:MM+HH:MM' of UTC instants (ns): in the offset recorded with each, else in ``tz``
    (the local time the audit uses for event dates)."""
    off = np.array([0 if o is None or o != o else int(o) for o in offsets], dtype=np.int64)
    has = np.array([o is not None and o == o for o in offsets], dtype=bool)
    return _fmt_instants(np.asarray(instants_ns, dtype=np.int64), off, has, np.full(len(off), tz, dtype=object))


def _text_arrow(s: pd.Series) -> pa.Array:
    """A text column as a pyarrow string array (missing values null), without a Python object per row
    where the column is a category or arrow-backed text."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        cats = pa.array(np.asarray(s.cat.categories, dtype=object), pa.string())
        return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32(), mask=codes < 0), cats).cast(pa.string())
    arr = s.array
    if hasattr(arr, "__arrow_array__"):
        out = pa.array(arr)
        return out.cast(pa.string()) if out.type != pa.string() else out
    return pa.array(s.to_numpy(dtype=object), pa.string(), from_pandas=True)


def _keys(df: pd.DataFrame) -> pa.Array:
    """Each row's "carrier U+001F tracking number" (null where the tracking number is missing)."""
    return pc.binary_join_element_wise(_text_arrow(df["carrier"]), _text_arrow(df["tracking_number"]), "\x1f")


def _unique(keys: pa.Array) -> bool:
    return bool(pc.count_distinct(keys, mode="all").as_py() == len(keys))


def _sid_of(keys: pa.Array, df: pd.DataFrame) -> np.ndarray:
    """Row of each (carrier, tracking_number) of df in ``keys`` (-1: not a manifested shipment, or no
    tracking number)."""
    if not len(df):
        return np.zeros(0, dtype=np.int64)
    pos = pc.index_in(_keys(df), options=pc.SetLookupOptions(value_set=keys, skip_nulls=True))
    return np.asarray(pc.fill_null(pos, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _first_per(sid: np.ndarray, n: int) -> np.ndarray:
    """Index of the first row of each sid in rows sorted by sid (-1 where none)."""
    first = np.full(n, -1, dtype=np.int64)
    if len(sid):
        u, i = np.unique(sid, return_index=True)
        first[u] = i
    return first


def _last_per(sid: np.ndarray, n: int) -> np.ndarray:
    last = np.full(n, -1, dtype=np.int64)
    if len(sid):
        u, i = np.unique(sid[::-1], return_index=True)
        last[u] = len(sid) - 1 - i
    return last


def _day(v: int) -> dt.date | None:
    return None if v == NAT else _dates(np.array([v]))[0]


def _take(values: np.ndarray, rows: np.ndarray, fill: int) -> np.ndarray:
    """values[rows] where rows >= 0, else fill."""
    out = np.full(len(rows), fill, dtype=np.int64)
    m = rows >= 0
    out[m] = values[rows[m]]
    return out


def _any_per(sid: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[sid[mask]] = True
    return out


def _sum_per(sid: np.ndarray, amounts: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, sid, amounts.astype(np.int64))
    return out


def _cat_parts(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    cats = np.asarray(s.cat.categories, dtype=object)
    return np.append(cats, np.array([None], dtype=object)), s.cat.codes.to_numpy()   # code -1 picks the None


def _txt(s: pd.Series) -> np.ndarray:
    """A text column without missing values as an object array of str (no copy through other dtypes)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats, codes = _cat_parts(s)
        return cats[codes]
    if s.dtype == object:
        return s.to_numpy()
    return s.astype(str).to_numpy(dtype=object)


def _str_col(s: pd.Series) -> np.ndarray:
    """Text column as an object array, missing values as None."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats, codes = _cat_parts(s)
        return cats[codes]
    a = s.to_numpy(dtype=object)
    out: np.ndarray = np.where(pd.isna(a), np.array(None, dtype=object), a)
    return out


def _local_days(occ: np.ndarray, off: np.ndarray, has_off: np.ndarray, tz: np.ndarray) -> np.ndarray:
    """Local date (days since epoch) of each instant: in its recorded offset, else its time zone."""
    out = np.zeros(len(occ), dtype=np.int64)
    if has_off.any():
        out[has_off] = (occ[has_off] + off[has_off] * MIN_NS) // DAY_NS
    rest = np.flatnonzero(~has_off)
    if len(rest):
        zones = pd.Series(tz[rest])
        for z, grp in zones.groupby(zones, sort=True).groups.items():
            j = rest[np.asarray(grp)]
            loc = pd.DatetimeIndex(pd.to_datetime(occ[j], utc=True)).tz_convert(str(z)).tz_localize(None)
            out[j] = loc.to_numpy(dtype="datetime64[ns]").view("int64") // DAY_NS
    return out


