"""Benchmark the UPS Billing Data reader: rows per second and peak memory, on one line.

    python bench/bench_ups_billing.py                     # 1,000,000 generated rows
    python bench/bench_ups_billing.py --rows 200000 --semicolon --trim
    python bench/bench_ups_billing.py --file /path/to/billing.csv --tracemalloc

The rows are written by ``bench/gen_ups_billing.py`` into a temporary file (or ``--keep PATH``,
reused when it exists) before the clock starts. Peak memory is the process's peak resident set
(``resource.getrusage``), which includes the interpreter and pandas (``baseline`` is the resident
set just before reading); ``cpu_s`` is the process's CPU time for the read, which a busy machine
does not inflate as it does wall-clock seconds; ``--tracemalloc`` adds a second, slower read that reports the peak of
Python-tracked allocations (numpy arrays included).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from recoup.invoices import ups_billing

HERE = Path(__file__).resolve().parent


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen_ups_billing", HERE / "gen_ups_billing.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="read this file instead of generating one")
    parser.add_argument("--keep", type=Path, help="generate into this path (reused when it exists)")
    parser.add_argument("--semicolon", action="store_true", help="generate ';' with DD/MM/YYYY dates")
    parser.add_argument("--trim", action="store_true", help="generate rows without trailing empty columns")
    parser.add_argument("--tracemalloc", action="store_true", help="also report the tracemalloc peak")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.file or args.keep or Path(tmp) / "ups_billing.csv"
        if args.file is None and not path.exists():
            with path.open("w", encoding="utf-8", newline="") as out:
                _generator().generate(args.rows, out, semicolon=args.semicolon, trim=args.trim)
        gc.collect()
        baseline = _rss_mb()
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        result = ups_billing.read(path)
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
        peak = _peak_rss_mb()
        line = (f"ups_billing rows={result.read} lines={len(result.frame)} errors={len(result.errors)} "
                f"seconds={seconds:.2f} cpu_s={cpu:.2f} rows_per_s={result.read / seconds:,.0f} peak_rss_mb={peak:.0f} "
                f"baseline_rss_mb={baseline:.0f} file_mb={path.stat().st_size / 1e6:.0f}")
        if args.tracemalloc:
            del result
            gc.collect()
            tracemalloc.start()
            ups_billing.read(path)
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            line += f" tracemalloc_peak_mb={traced_peak / 1e6:.0f}"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
