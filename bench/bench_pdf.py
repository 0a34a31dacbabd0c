"""Benchmark the PDF invoice reader: pages per second and peak memory.

    python bench/gen_pdf_invoice.py --pages 500 --out /tmp/dpd_500.pdf
    python bench/bench_pdf.py /tmp/dpd_500.pdf [--workers N] [--timeout 600]

Memory: the reader's workers are children of multiprocessing's fork server, not of this process, so
resource.getrusage(RUSAGE_CHILDREN) (printed too) does not see them until they are reaped by it.
What counts is measured three ways: this process's own peak (RUSAGE_SELF), each worker's own peak
(it reports ru_maxrss when it ends), and the peak of the summed resident memory of this process and
all its descendants, sampled every 20 ms from /proc (Linux).
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from pathlib import Path


def _tree_rss_kb(root: int) -> int:
    """Resident memory of `root` and all its descendants (Linux /proc), in KiB."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(d)] = int(fields[1])
            rss[int(d)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(p for p, pp in parent.items() if pp == pid)
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf", type=Path)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args(argv)

    from recoup.invoices import pdf

    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(os.getpid()))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    res = pdf.read(args.pdf, timeout_s=args.timeout, workers=args.workers, max_pages=100_000)
    dt = time.perf_counter() - t0
    stop.set()
    sampler.join()
    workers = res.extra["pdf_workers"]
    pages = int(workers["pages"].sum())
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"file          {args.pdf} ({args.pdf.stat().st_size / 1e6:.1f} MB)")
    print(f"pages         {pages} in {dt:.1f} s: {pages / dt:.1f} pages/s ({os.cpu_count()} cpus, "
          f"{len(workers) - 1 if len(workers) > 1 else 1} page workers)")
    print(f"charge lines  {len(res.frame)}, total {res.frame['amount_cents'].sum() / 100:.2f}; {res.notes[-1]}")
    cpu = float(workers["cpu_seconds"].sum())
    print(f"worker time   wall {', '.join(f'{s:.1f}' for s in workers['seconds'])} s; "
          f"CPU {', '.join(f'{s:.1f}' for s in workers['cpu_seconds'])} s: "
          f"{pages / cpu:.1f} pages per CPU-second (independent of the machine's load)")
    print(f"load average  {os.getloadavg()[0]:.1f} (other processes share the cores)")
    print(f"peak memory   parent {self_kb / 1024:.0f} MiB (RUSAGE_SELF); "
          f"workers {', '.join(f'{k / 1024:.0f}' for k in workers['peak_rss_kb'])} MiB each (their ru_maxrss); "
          f"RUSAGE_CHILDREN {child_kb / 1024:.0f} MiB; "
          f"parent + all descendants sampled {peak[0] / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
