"""Benchmark: `recoup serve` under load, on 127.0.0.1 only.

Starts `recoup serve --port 0` in a child process on a fresh SQLite database, then for each
concurrency level (default 50 and 200) sends a bounded number of requests, each on a new TCP
connection (the worst case for the listen backlog), from that many concurrent senders:

- ``event``: a signed EasyPost ``tracker.updated`` event (verify, parse, store: after the first one
  every scan is a duplicate, so each request is one read-and-compare transaction);
- ``health``: ``GET /health`` (the server alone).

Reports requests/s, p50/p99 latency and every failure by kind; a connection reset (or any request
without an HTTP answer) makes the script exit 1. Bounded: ``--requests`` per run and ``--max-seconds``
per run; the server is stopped at the end whatever happens.

    python bench/bench_webhook.py [--requests 2000] [--concurrency 50,200] [--max-seconds 120]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENT = (ROOT / ".." / "shared" / "samples" / "easypost" / "webhook_event_tracker_updated.json").resolve()
SECRET = "bench-secret"
HOST = "127.0.0.1"


def sign(body: bytes, secret: str) -> str:
    from recoup.shipments.webhook import sign as _sign

    return _sign(body, secret)


async def one(port: int, request: bytes, timeout: float) -> tuple[str, float]:
    """One request on its own connection: ('200', seconds) or ('reset'|'timeout'|'no answer'..., s)."""
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1].decode()
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except ConnectionResetError:
        return "reset", time.perf_counter() - t0
    except asyncio.IncompleteReadError as e:
        return f"no answer (closed after {len(e.partial)} bytes)", time.perf_counter() - t0
    except ConnectionError as e:
        return f"no answer ({type(e).__name__})", time.perf_counter() - t0
    except TimeoutError:
        return "timeout", time.perf_counter() - t0
    except OSError as e:
        return f"oserror:{e.errno}", time.perf_counter() - t0
    return status, time.perf_counter() - t0


async def run_level(port: int, request: bytes, concurrency: int, total: int, max_seconds: float) -> dict[str, object]:
    results: list[tuple[str, float]] = []
    todo = iter(range(total))
    deadline = time.monotonic() + max_seconds

    async def sender() -> None:
        for _ in todo:
            if time.monotonic() > deadline:
                return
            results.append(await one(port, request, timeout=30))

    t0 = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    lat = sorted(s for _, s in results)
    by = collections.Counter(k for k, _ in results)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    return {"concurrency": concurrency, "requests": len(results), "wall_s": wall,
            "rps": len(results) / wall if wall else 0.0, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "outcomes": dict(by)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000, help="requests per run (default 2000)")
    ap.add_argument("--concurrency", default="50,200", help="comma-separated levels (default 50,200)")
    ap.add_argument("--max-seconds", type=float, default=120.0, help="time bound per run (default 120)")
    ap.add_argument("--workers", type=int, default=8, help="the server's --workers")
    args = ap.parse_args()
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    body = EVENT.read_bytes().rstrip(b"\n")
    requests = {
        "event": (f"POST /webhooks/easypost HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nX-Hmac-Signature: {sign(body, SECRET)}\r\n"
                  f"Connection: close\r\n\r\n").encode() + body,
        "health": f"GET /health HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode(),
    }
    recoup = [sys.executable, "-m", "recoup"]
    failed = False
    with tempfile.TemporaryDirectory(prefix="recoup-bench-webhook-") as tmp:
        env = {**os.environ, "RECOUP_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}"}
        env.pop("RECOUP_WEBHOOK_SECRET", None)
        secret = Path(tmp) / "secret"
        secret.write_text(SECRET + "\n", encoding="utf-8")
        subprocess.run([*recoup, "init"], env=env, check=True, capture_output=True)
        log_path = Path(tmp) / "serve.log"
        log_file = log_path.open("w", encoding="utf-8")
        server = subprocess.Popen([*recoup, "serve", "--port", "0", "--secret-file", str(secret),
                                   "--workers", str(args.workers)],
                                  env=env, stderr=log_file, text=True, cwd=tmp)
        try:
            line = ""
            for _ in range(300):
                line = log_path.read_text(encoding="utf-8")
                if "listening on" in line or server.poll() is not None:
                    break
                time.sleep(0.1)
            if "listening on" not in line:
                print(f"the server did not start: {line}", file=sys.stderr)
                return 1
            port = int(line.split(f"{HOST}:")[1].split("/")[0])
            print(f"recoup serve on {HOST}:{port} (workers {args.workers}); {os.cpu_count()} CPUs, "
                  f"load {os.getloadavg()[0]:.1f}")
            print(f"{'path':<7} {'conc':>5} {'reqs':>6} {'wall s':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  outcomes")
            for what, req in requests.items():
                for c in levels:
                    r = asyncio.run(run_level(port, req, c, args.requests, args.max_seconds))
                    outcomes = r["outcomes"]
                    assert isinstance(outcomes, dict)
                    print(f"{what:<7} {c:>5} {r['requests']:>6} {r['wall_s']:>7.1f} {r['rps']:>8.0f} "
                          f"{r['p50_ms']:>8.0f} {r['p99_ms']:>8.0f}  {outcomes}", flush=True)
                    bad = {k: n for k, n in outcomes.items() if k != "200"}
                    if bad:
                        failed = True
                        print(f"FAIL: {what} at concurrency {c}: {bad}", file=sys.stderr)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log_file.close()
            log = log_path.read_text(encoding="utf-8").splitlines()[1:]
            if log:
                print(f"server log ({len(log)} lines, last 20):", *log[-20:], sep="\n  ")
    if failed:
        print("FAIL: some requests were not answered with 200 (resets or errors above)", file=sys.stderr)
        return 1
    print("ok: every request answered, no connection reset")
    return 0


if __name__ == "__main__":
    sys.exit(main())
