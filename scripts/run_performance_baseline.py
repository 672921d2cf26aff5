#!/usr/bin/env python3
"""Performance baseline of a running stack against the seed documents' targets: concurrent
requests, then p50/p95/p99, requests per second and the error rate of each scenario, with
PASS or FAIL per target. Exit 1 when a target is missed.

  python scripts/run_performance_baseline.py --type baseline
  python scripts/run_performance_baseline.py --type health --requests 500 --concurrency 20
  python scripts/run_performance_baseline.py --type baseline --output baseline.json

Scenarios (--type):
  health    GET /health on the API                         target p95 < 100 ms
  content   POST /api/v2/generate-content preview_only,    target p95 < 2 s
            uncached (Cache-Control: no-cache)
  mocks     GET /health on the mock CRM and mock Platform  target p95 < 50 ms
  mixed     health and content requests interleaved        target p95 < 2 s
  baseline  health, content and mocks (the default)
Every scenario also needs an error rate (non-2xx or no answer) of at most 1 %.

Addresses: --host (default API_URL, from PORT), CRM_URL / MOCK_CRM_PORT and PLATFORM_URL /
MOCK_PLATFORM_PORT (environment or .env; defaults in scripts/lib.sh). The content scenario
needs a configured living document (LIVING_DOC_ID, or `halcytone up`'s sample).
For load beyond what one Python process can make, use scripts/load-test.sh (wrk).
"""

import argparse
import concurrent.futures
import json
import sys
import time

import _halcytone as h

TARGET_P95_MS = {"health": 100, "content": 2000, "mocks": 50, "mixed": 2000}
MAX_ERROR_RATE = 0.01


def percentile(values, p):
    if not values:
        return 0.0
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def run(name, requests, total, concurrency):
    """requests: callables returning (status, seconds); called round-robin TOTAL times."""
    times, errors = [], 0
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
        for status, seconds in pool.map(lambda i: requests[i % len(requests)](), range(total)):
            times.append(seconds * 1000)
            if not 200 <= status < 300:
                errors += 1
    elapsed = time.monotonic() - started
    return {
        "scenario": name, "requests": total, "concurrency": concurrency,
        "p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1),
        "p99_ms": round(percentile(times, 99), 1), "rps": round(total / elapsed, 1) if elapsed else 0.0,
        "error_rate": round(errors / total, 4) if total else 0.0,
        "target_p95_ms": TARGET_P95_MS[name],
    }


def main():
    cfg = h.settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--type", choices=["baseline", "health", "content", "mocks", "mixed"], default="baseline")
    p.add_argument("--host", default=cfg["API_URL"], help="the API (default %(default)s)")
    p.add_argument("--requests", type=int, default=200, help="requests per scenario (default %(default)s)")
    p.add_argument("--concurrency", type=int, default=10, help="requests in flight (default %(default)s)")
    p.add_argument("--output", help="also write the results as JSON to this file")
    args = p.parse_args()
    if args.requests < 1 or args.concurrency < 1:
        p.error("--requests and --concurrency must be at least 1")
    api = args.host.rstrip("/")

    def get(url):
        return lambda: (lambda r: (r[0], r[3]))(h.http(url, timeout=30))

    def preview():
        r = h.http(f"{api}/api/v2/generate-content", "POST", {"preview_only": True}, {"Cache-Control": "no-cache"}, timeout=30)
        return r[0], r[3]

    status = h.http(f"{api}/health", timeout=5)[0]
    if status == 0:
        print(f"no answer from {api}/health: start the stack first (scripts/start-all-services.sh or halcytone up)", file=sys.stderr)
        return 1
    scenarios = {
        "health": [get(f"{api}/health")],
        "content": [preview],
        "mocks": [get(f"{cfg['CRM_URL']}/health"), get(f"{cfg['PLATFORM_URL']}/health")],
        "mixed": [get(f"{api}/health"), preview],
    }
    names = ["health", "content", "mocks"] if args.type == "baseline" else [args.type]
    results = [run(n, scenarios[n], args.requests, args.concurrency) for n in names]

    report = h.Report(f"performance baseline of {api} ({args.requests} requests per scenario, {args.concurrency} in flight)")
    for r in results:
        detail = (f"p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, p99 {r['p99_ms']} ms, {r['rps']} req/s, "
                  f"errors {r['error_rate'] * 100:.2f} %")
        report.passed(f"{r['scenario']}: p95 < {r['target_p95_ms']} ms", r["p95_ms"] < r["target_p95_ms"], detail)
        report.passed(f"{r['scenario']}: errors <= {MAX_ERROR_RATE * 100:.0f} %", r["error_rate"] <= MAX_ERROR_RATE,
                      f"{round(r['error_rate'] * r['requests'])} of {r['requests']}")
    report.print()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            json.dump({"api": api, "results": results}, f, indent=2)
        print(f"results written to {args.output}")
    return report.exit_code()


if __name__ == "__main__":
    sys.exit(main())
