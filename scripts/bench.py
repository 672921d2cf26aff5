#!/usr/bin/env python3
"""HTTP throughput benchmark: the service's hot paths against a bare axum yardstick.

Starts, on free ports with a fresh data directory, the mock CRM (with its capture), the mock
Platform, `halcytone serve` in dry run with the bundled sample document, and `bench-hello` (a
bare axum handler built from this repository: the most this machine gives one HTTP server).
Then it runs wrk over every path in turn, round after round (interleaved, so drift hits each
path alike), and prints one table: the median over the rounds of requests/s, p50 and p99, and
each path's ratio to the yardstick it is judged against.

    scripts/bench.sh                       # 3 rounds of 10 s, wrk -t2 -c50 (issue 22's series)
    scripts/bench.sh --rounds 1 --duration 3s
    scripts/bench.sh --only health,hello

Paths:
  hello             GET /            on bench-hello (the yardstick)
  health            GET /health      target >= 0.8 x hello
  preview-cached    GET /api/v1/preview, a cache hit                  target >= 0.5 x health
  preview-cached-br the cache hit to a client accepting gzip and br   target >= 0.5 x health
  preview-uncached  GET /api/v1/preview, Cache-Control: no-cache      target >= 0.10 x health,
                                                                      >= 5,000/s, p99 <= 20 ms
  capture           POST /api/v1/email/send on the mock CRM (captured) target >= 0.2 x health,
                                                                      >= 10,000/s, p99 <= 20 ms
  preview-c1        the uncached preview with one connection          target p50 <= 0.5 ms

Exit status: 0 when every run finished (targets are reported, `--check` enforces them); 1 when
a target is missed under `--check`; 2 on bad usage (wrk missing, a port taken, no binary).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from _halcytone import free_port, stop_all

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "bench-read-key-0000000000000000001"
CAPTURE_BODY = (
    '{"subject":"Bench","html_content":"<p>Hello from the benchmark</p>",'
    '"text_content":"Hello from the benchmark","campaign_id":"bench",'
    '"recipients":["reader@example.com"],"sender_email":"news@example.com"}'
)
# name -> (label, yardstick, share of it, extra targets)
PATHS = {
    "hello": ("GET / (bare axum)", None, None, {}),
    "health": ("GET /health", "hello", 0.8, {}),
    "preview-cached": ("preview, cache hit", "health", 0.5, {}),
    "preview-cached-br": ("preview, cache hit, br/gzip", "health", 0.5, {}),
    "preview-uncached": ("preview, uncached", "health", 0.10, {"rps": 5000, "p99": 20.0}),
    "capture": ("mock CRM send, captured", "health", 0.2, {"rps": 10000, "p99": 20.0}),
    "preview-c1": ("preview, uncached, c=1", None, None, {"p50": 0.5}),
}


def die(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(2)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_up(url: str, proc: subprocess.Popen, what: str, log: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            die(f"{what} exited with {proc.returncode}; its log: {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    die(f"{what} did not answer {url} within 60 s; its log: {log}")


def millis(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    result: dict[str, float] = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        result[key] = millis(m.group(1)) if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["errors"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors:.*", out)
    result["socket_errors"] = 1.0 if m else 0.0
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", default="10s", help="wrk -d for each run (default 10s)")
    p.add_argument("--threads", type=int, default=2, help="wrk -t (default 2)")
    p.add_argument("--connections", type=int, default=50, help="wrk -c (default 50)")
    p.add_argument("--only", help="comma-separated paths to run (default: all)")
    p.add_argument("--port", type=int, help="first of four consecutive ports (default: free ones)")
    p.add_argument("--bin", default=os.environ.get("HALCYTONE_BIN", "target/release/halcytone"))
    p.add_argument("--hello", default=os.environ.get(
        "BENCH_HELLO_BIN", "target/release/examples/bench-hello"))
    p.add_argument("--document", default=os.path.join(ROOT, "samples", "living-document.md"),
                   help="the living document previewed (default: the bundled sample)")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the data directory and logs")
    a = p.parse_args()
    if a.rounds < 1 or a.threads < 1 or a.connections < a.threads:
        p.error("--rounds and --threads must be at least 1, --connections at least --threads")
    if not re.fullmatch(r"\d+[smh]?", a.duration):
        p.error(f"--duration {a.duration!r}: give seconds like 10s")
    chosen = list(PATHS) if not a.only else [x.strip() for x in a.only.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in PATHS]
    if unknown:
        p.error(f"--only: unknown path {', '.join(unknown)} (known: {', '.join(PATHS)})")
    wrk = shutil.which("wrk")
    if not wrk:
        die("wrk is not installed; install it with `apt-get install wrk` (Debian/Ubuntu) "
            "or `brew install wrk` (macOS), then run this again")
    if a.port:
        ports = [a.port + i for i in range(4)]
        taken = [str(x) for x in ports if not (0 < x < 65536) or not port_free(x)]
        if taken:
            die(f"port {', '.join(taken)} is taken or out of range; pick other ports with "
                "--port N (N to N+3 must be free) or leave --port out for free ones")
    else:
        ports = [free_port() for _ in range(4)]
    for label, path in (("halcytone", a.bin), ("bench-hello", a.hello)):
        if not os.access(path, os.X_OK):
            die(f"{label}: {path} is not an executable (build it: cargo build --release "
                "-p halcytone --bin halcytone --example bench-hello, or run scripts/bench.sh)")
    a.bin, a.hello = os.path.abspath(a.bin), os.path.abspath(a.hello)
    a.document = os.path.abspath(a.document)
    if not os.path.isfile(a.document):
        die(f"--document {a.document}: no such file")

    api_port, crm_port, platform_port, hello_port = ports

    work = tempfile.mkdtemp(prefix="halcytone-bench-")
    procs: list[subprocess.Popen] = []

    def start(name: str, args: list[str], env: dict[str, str], binary: str) -> subprocess.Popen:
        log = open(os.path.join(work, f"{name}.log"), "w")
        full = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "API_KEY", "API_KEYS", "PORT")}
        full.update(env)
        full.setdefault("LOG_DIR", os.path.join(work, f"logs-{name}"))
        full.setdefault("LOG_LEVEL", "warn")
        proc = subprocess.Popen([binary, *args], cwd=work, env=full, stdout=log, stderr=log)
        procs.append(proc)
        return proc

    try:
        crm = start("mock-crm", ["mock", "crm", "--port", str(crm_port), "--smtp-port", "0",
                                 "--data-dir", work], {}, a.bin)
        plat = start("mock-platform", ["mock", "platform", "--port", str(platform_port),
                                       "--data-dir", work], {}, a.bin)
        api = start("serve", ["serve"], {
            "DATABASE_URL": f"sqlite://{work}/halcytone.db",
            "DRY_RUN_MODE": "true",
            "API_KEY": KEY,
            "PORT": str(api_port),
            "RATE_LIMIT_PER_MINUTE": "0",
            "RATE_LIMIT_READS_PER_SECOND": "0",
            "LIVING_DOC_TYPE": "file",
            "LIVING_DOC_ID": a.document,
            "HALCYTONE_DATA_DIR": os.path.join(work, "data"),
            "MOCK_CRM_BASE_URL": f"http://127.0.0.1:{crm_port}",
            "MOCK_PLATFORM_BASE_URL": f"http://127.0.0.1:{platform_port}",
        }, a.bin)
        hello = start("bench-hello", [f"127.0.0.1:{hello_port}"], {}, a.hello)
        wait_up(f"http://127.0.0.1:{crm_port}/health", crm, "the mock CRM", f"{work}/mock-crm.log")
        wait_up(f"http://127.0.0.1:{platform_port}/health", plat, "the mock Platform",
                f"{work}/mock-platform.log")
        wait_up(f"http://127.0.0.1:{api_port}/health", api, "halcytone serve", f"{work}/serve.log")
        wait_up(f"http://127.0.0.1:{hello_port}/", hello, "bench-hello", f"{work}/bench-hello.log")

        post_lua = os.path.join(work, "post.lua")
        with open(post_lua, "w") as f:
            f.write('wrk.method = "POST"\n')
            f.write('wrk.headers["Content-Type"] = "application/json"\n')
            f.write(f"wrk.body = [[{CAPTURE_BODY}]]\n")
        auth = ["-H", f"Authorization: Bearer {KEY}"]
        preview = f"http://127.0.0.1:{api_port}/api/v1/preview"
        commands = {
            "hello": [f"http://127.0.0.1:{hello_port}/"],
            "health": [f"http://127.0.0.1:{api_port}/health"],
            "preview-cached": [*auth, preview],
            "preview-cached-br": [*auth, "-H", "Accept-Encoding: gzip, br", preview],
            "preview-uncached": [*auth, "-H", "Cache-Control: no-cache", preview],
            "capture": ["-s", post_lua, f"http://127.0.0.1:{crm_port}/api/v1/email/send"],
            "preview-c1": [*auth, "-H", "Cache-Control: no-cache", preview],
        }

        def run(name: str, duration: str) -> dict[str, float]:
            t, c = (1, 1) if name == "preview-c1" else (a.threads, a.connections)
            cmd = [wrk, "--latency", "-t", str(t), "-c", str(c), "-d", duration,
                   *commands[name]]
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                die(f"wrk failed on {name}: {out.stderr.strip() or out.stdout.strip()}")
            return parse_wrk(out.stdout)

        for name in chosen:  # warm-up: caches filled, connections pooled, pages faulted in
            run(name, "1s")
        results: dict[str, list[dict[str, float]]] = {name: [] for name in chosen}
        for r in range(1, a.rounds + 1):
            for name in chosen:
                got = run(name, a.duration)
                results[name].append(got)
                print(f"round {r} {name:17} {got['rps']:>10,.0f} req/s  p50 {got['p50']:7.2f} ms"
                      f"  p99 {got['p99']:7.2f} ms", flush=True)

        med = {name: {k: statistics.median(x[k] for x in runs) for k in runs[0]}
               for name, runs in results.items()}
        print()
        print(f"wrk -t{a.threads} -c{a.connections} -d{a.duration}, median of {a.rounds} "
              f"interleaved round(s); load generator and servers share this machine "
              f"({os.cpu_count()} CPUs)")
        print(f"{'path':28} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}  {'ratio':>16}  target")
        missed = []
        for name in chosen:
            label, base, share, extra = PATHS[name]
            m = med[name]
            ratio, goals = "", []
            if base and base in med and med[base]["rps"] > 0:
                value = m["rps"] / med[base]["rps"]
                ratio = f"{value:.2f} x {base}"
                goals.append(f">= {share} x {base}")
                if value < share:
                    missed.append(f"{name}: {value:.2f} x {base} < {share}")
            if "rps" in extra:
                goals.append(f">= {extra['rps']:,}/s")
                if m["rps"] < extra["rps"]:
                    missed.append(f"{name}: {m['rps']:,.0f}/s < {extra['rps']:,}")
            for key in ("p50", "p99"):
                if key in extra:
                    goals.append(f"{key} <= {extra[key]} ms")
                    if not m[key] <= extra[key]:
                        missed.append(f"{name}: {key} {m[key]:.2f} ms > {extra[key]}")
            errors = sum(x["errors"] for x in results[name])
            note = f"  ({errors:,.0f} non-2xx)" if errors else ""
            print(f"{label:28} {m['rps']:>10,.0f} {m['p50']:>8.2f} {m['p99']:>8.2f}  "
                  f"{ratio:>16}  {', '.join(goals)}{note}")
            if errors:
                missed.append(f"{name}: {errors:,.0f} responses were not 2xx")
        if missed:
            print("missed: " + "; ".join(missed))
        else:
            print("every target met")
        return 1 if a.check and missed else 0
    finally:
        stop_all(procs, work=work, keep=a.keep)


if __name__ == "__main__":
    sys.exit(main())
