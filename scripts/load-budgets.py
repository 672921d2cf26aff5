#!/usr/bin/env python3
"""Load checks of the request budgets, run by hand against a running API (not a timed test).

  scripts/load-budgets.py previews [--api URL] [--size-kib 512] [--concurrency 4] [--rounds 3]
      Concurrent unauthenticated previews of large one-line documents while /health is
      polled every 20 ms: prints each preview's status and time, and /health's slowest answer.
      Targets: /health within 250 ms throughout, each preview answered (any status) within 2 s.

  scripts/load-budgets.py reads --key KEY [--api URL] [--rate 150] [--seconds 20]
      A steady stream of authenticated reads (GET /api/v2/jobs) from one key, as a dashboard
      tab polls: prints how many were answered 200 and how many 429.

Only the standard library is used. The API defaults to $HALCYTONE_API, else API_URL as the
other scripts read it (PORT; environment or .env; defaults in scripts/lib.sh).
"""

import argparse
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

import _halcytone

WORDS = ["breathing", "sensor", "update", "calm", "the", "app", "device", "slow", "focus", "team"]


def one_line_document(size: int, salt: int) -> str:
    """A document whose single item is one line of `size` bytes of words and no full stop."""
    out, n, i = [], 0, salt
    while n < size:
        w = WORDS[(i * 7 + i // 3) % len(WORDS)]
        out.append(w)
        n += len(w) + 1
        i += 1
    return "## [Tips] Tips\n\n### One long item\n\n" + " ".join(out) + "\n"


def request(url, body=None, key=None, timeout=30.0):
    """Returns (status, seconds)."""
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST" if body else "GET")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        e.read()
        status = e.code
    except Exception as e:  # connection refused, timeout: reported, not raised
        print(f"  {url}: {e}", file=sys.stderr)
        status = 0
    return status, time.monotonic() - started


def previews(args) -> int:
    health_times = []
    stop = threading.Event()

    def poll_health():
        while not stop.is_set():
            _, t = request(f"{args.api}/health", timeout=10)
            health_times.append(t)
            time.sleep(0.02)

    poller = threading.Thread(target=poll_health)
    poller.start()
    results = []
    lock = threading.Lock()

    def preview(i: int):
        doc = one_line_document(args.size_kib * 1024, salt=i)
        body = json.dumps({"preview_only": True, "document": doc}).encode()
        status, t = request(f"{args.api}/api/v2/generate-content", body=body, timeout=60)
        with lock:
            results.append((i, status, t, len(body)))

    time.sleep(0.3)  # /health at rest first
    for r in range(args.rounds):
        threads = [
            threading.Thread(target=preview, args=(r * args.concurrency + i,))
            for i in range(args.concurrency)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    time.sleep(0.3)
    stop.set()
    poller.join()

    print(f"{len(results)} previews of {args.size_kib} KiB, {args.concurrency} at a time, no key:")
    for i, status, t, size in sorted(results):
        print(f"  preview {i:2}: {status}  {t * 1000:7.0f} ms  ({size} bytes sent)")
    ht = sorted(health_times)
    p50 = ht[len(ht) // 2] * 1000
    p99 = ht[min(len(ht) - 1, int(len(ht) * 0.99))] * 1000
    print(
        f"/health: {len(ht)} answers while they ran; median {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, slowest {ht[-1] * 1000:.1f} ms"
    )
    slow_previews = [r for r in results if r[2] > 2.0 or r[1] == 0]
    ok = ht[-1] <= 0.25 and not slow_previews
    print("targets met: /health <= 250 ms, every preview answered within 2 s" if ok else "TARGETS MISSED")
    return 0 if ok else 1


def reads(args) -> int:
    interval = 1.0 / args.rate
    counts = {}
    lock = threading.Lock()
    started = time.monotonic()
    sent = 0
    threads = []

    def one():
        status, _ = request(f"{args.api}/api/v2/jobs?limit=1", key=args.key, timeout=10)
        with lock:
            counts[status] = counts.get(status, 0) + 1

    while time.monotonic() - started < args.seconds:
        due = started + sent * interval
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        t = threading.Thread(target=one)
        t.start()
        threads.append(t)
        sent += 1
        threads = [t for t in threads if t.is_alive()]
    for t in threads:
        t.join()
    took = time.monotonic() - started
    print(f"{sent} reads in {took:.1f} s ({sent / took:.0f}/s) from one key: " + ", ".join(
        f"{n} x {s}" for s, n in sorted(counts.items())))
    return 0 if counts.get(429, 0) == 0 else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--api", default=os.environ.get("HALCYTONE_API") or _halcytone.settings()["API_URL"])
    sub = p.add_subparsers(dest="scenario", required=True)
    pv = sub.add_parser("previews")
    pv.add_argument("--size-kib", type=int, default=512)
    pv.add_argument("--concurrency", type=int, default=4)
    pv.add_argument("--rounds", type=int, default=3)
    rd = sub.add_parser("reads")
    rd.add_argument("--key", required=True)
    rd.add_argument("--rate", type=float, default=150)
    rd.add_argument("--seconds", type=float, default=20)
    args = p.parse_args()
    args.api = args.api.rstrip("/")
    return previews(args) if args.scenario == "previews" else reads(args)


if __name__ == "__main__":
    sys.exit(main())
