#!/usr/bin/env python3
"""Send benchmark: one newsletter to N imported recipients over SMTP, into the mock capture.

Starts the mock CRM (with its SMTP capture) and the mock Platform, then one or more
`halcytone serve` replicas on free ports with a fresh data directory; imports an audience of N
people from a CSV file (streamed, never held in memory); sends one newsletter to it with
`POST /api/v2/content/sync`; and follows the job to its end. It prints the delivery rate, the
peak resident memory (VmHWM) of every process, the capture's counts (distinct and repeated
deliveries) and, with several replicas, how many batches each one ran.

    scripts/send-bench.sh --recipients 1000000
    scripts/send-bench.sh --recipients 100000 --replicas 2 \
        --database postgres://postgres@127.0.0.1:5432/test

Targets (issue 18): 1,000,000 recipients at >= 2,000 recipients/s with every process at
<= 100 MB peak RSS. Exit status 0 when the send completed with every recipient delivered once;
1 when it did not; 2 on bad usage. Targets are reported, not enforced (`--check` enforces them).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from _halcytone import free_port, stop_all

KEY = "send-bench-admin-key-000000000001"
DOCUMENT = """# Weekly update

## Breathscape Updates

### Calmer sessions ship
Version 4 brings calmer pacing, a clearer summary after each session and a quieter
reminder schedule. Hello *|FIRST_NAME|*, thank you for breathing with us.

## Wellness Tips

### [Tip] Two minutes before sleep
A short box-breathing round before bed helps most people fall asleep sooner.
"""


def request(method: str, url: str, body=None, headers=None, timeout=60.0):
    headers = dict(headers or {})
    data = None
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        headers.setdefault("content-type", "application/json")
    elif body is not None:
        data = body
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, text
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def api(method: str, url: str, body=None, headers=None, timeout=60.0):
    headers = dict(headers or {})
    headers["authorization"] = f"Bearer {KEY}"
    status, text = request(method, url, body, headers, timeout)
    if status >= 400:
        sys.exit(f"send-bench: {method} {url} answered {status}: {text[:500]!r}")
    return json.loads(text) if text else None


def wait_healthy(url: str, proc: subprocess.Popen, what: str, log: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"send-bench: {what} exited with {proc.returncode}; see {log}")
        try:
            status, _ = request("GET", url, timeout=2)
            if status < 500:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    sys.exit(f"send-bench: {what} did not answer {url} within 60 s; see {log}")


def rss_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def metric(text: str, name: str, labels: str = "") -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (not labels or labels in line):
            rest = line[len(name):]
            if rest[:1] in ("{", " "):
                total += float(line.rsplit(" ", 1)[1])
    return total


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--recipients", type=int, default=100_000)
    p.add_argument("--replicas", type=int, default=1)
    p.add_argument("--database", help="postgres://… (default: SQLite in the data directory)")
    p.add_argument("--batch-size", type=int, default=1000, help="SEND_BATCH_SIZE")
    p.add_argument("--rate", type=int, default=1_000_000, help="EMAIL_RATE_PER_SECOND")
    p.add_argument("--connections", type=int, default=0, help="SMTP_CONNECTIONS (0: the default)")
    p.add_argument("--bin", default=os.environ.get("HALCYTONE_BIN", "target/release/halcytone"))
    p.add_argument("--keep", action="store_true", help="keep the data directory and logs")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless >= 2,000 recipients/s and every process <= 100 MB")
    a = p.parse_args()
    if a.recipients < 1 or a.replicas < 1 or a.batch_size < 1:
        p.error("--recipients, --replicas and --batch-size must be at least 1")
    if a.replicas > 1 and not a.database:
        p.error("several replicas share one database: give --database postgres://…")
    a.bin = os.path.abspath(a.bin)
    if not os.access(a.bin, os.X_OK):
        p.error(f"{a.bin} is not an executable (build it: cargo build --release)")

    work = tempfile.mkdtemp(prefix="halcytone-send-bench-")
    procs: list[tuple[str, subprocess.Popen]] = []

    def start(name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(os.path.join(work, f"{name}.log"), "w")
        full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "API_KEY")}
        full.update(env)
        full.setdefault("LOG_DIR", os.path.join(work, f"logs-{name}"))
        proc = subprocess.Popen([a.bin, *args], cwd=work, env=full, stdout=log, stderr=log)
        procs.append((name, proc))
        return proc

    try:
        crm_port, smtp_port, platform_port = free_port(), free_port(), free_port()
        crm = start("mock-crm", ["mock", "crm", "--port", str(crm_port), "--smtp-port",
                                 str(smtp_port), "--data-dir", work, "--retention", "2000"], {})
        plat = start("mock-platform", ["mock", "platform", "--port", str(platform_port),
                                       "--data-dir", work], {})
        crm_url = f"http://127.0.0.1:{crm_port}"
        wait_healthy(f"{crm_url}/health", crm, "the mock CRM", f"{work}/mock-crm.log")
        wait_healthy(f"http://127.0.0.1:{platform_port}/health", plat, "the mock Platform",
                     f"{work}/mock-platform.log")
        database = a.database
        if database and database.startswith("postgres"):
            # A schema of its own, so the run starts empty and leaves the database as it was.
            schema = "send_bench_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", database, "-qc", f"CREATE SCHEMA {schema}"], check=True)
            sep = "&" if "?" in database else "?"
            database = f"{database}{sep}options=-csearch_path%3D{schema}"
        database = database or f"sqlite://{work}/halcytone.db"
        apis = []
        for i in range(a.replicas):
            port = free_port()
            env = {
                "DATABASE_URL": database,
                "DRY_RUN_MODE": "true",
                "API_KEY": KEY,
                "PORT": str(port),
                "HALCYTONE_DATA_DIR": os.path.join(work, f"data-{i}"),
                "MOCK_CRM_BASE_URL": crm_url,
                "MOCK_PLATFORM_BASE_URL": f"http://127.0.0.1:{platform_port}",
                "MOCK_SMTP_PORT": str(smtp_port),
                "EMAIL_TRANSPORT": "smtp",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_FROM": "Halcytone <newsletter@example.com>",
                "EMAIL_RATE_PER_SECOND": str(a.rate),
                "SEND_BATCH_SIZE": str(a.batch_size),
                "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "warn"),
            }
            if a.connections:
                env["SMTP_CONNECTIONS"] = str(a.connections)
            proc = start(f"serve-{i}", ["serve"], env)
            url = f"http://127.0.0.1:{port}"
            wait_healthy(f"{url}/health", proc, f"replica {i}", f"{work}/serve-{i}.log")
            apis.append(url)
        api_url = apis[0]

        csv_path = os.path.join(work, "audience.csv")
        with open(csv_path, "w") as f:
            f.write("email,first_name\n")
            for i in range(a.recipients):
                f.write(f"reader{i:07d}@example.com,Reader{i}\n")
        made = api("POST", f"{api_url}/api/v2/audiences", {"name": f"{a.recipients} readers"})
        t = time.time()
        with open(csv_path, "rb") as f:
            size = os.path.getsize(csv_path)
            imported = api("POST", f"{api_url}/api/v2/audiences/{made['id']}/subscribers/import",
                           f, {"content-type": "text/csv", "content-length": str(size)},
                           timeout=3600)
        import_s = time.time() - t
        print(f"imported {imported['imported']} people in {import_s:.1f} s "
              f"({imported['imported'] / max(import_s, 0.001):,.0f}/s)")

        sync = {"document_id": "bench", "document": DOCUMENT, "channels": ["email"],
                "audience_id": made["id"]}
        cpu0 = {name: cpu_seconds(pr.pid) for name, pr in procs}
        queued = api("POST", f"{api_url}/api/v2/content/sync", sync)
        job_id = queued.get("job_id") or queued.get("id")
        t0 = time.time()
        last = 0.0
        while True:
            job = api("GET", f"{api_url}/api/v2/jobs/{job_id}")
            if job["status"] in ("completed", "failed", "cancelled", "partially_completed"):
                break
            if time.time() - last >= 5:
                last = time.time()
                r = job.get("recipients") or {}
                rss = ", ".join(f"{n} {rss_kb(pr.pid, 'VmRSS') // 1024} MB" for n, pr in procs)
                print(f"  {time.time() - t0:6.0f} s: {r.get('sent', 0):>9} sent, "
                      f"{r.get('rate_per_second') or 0:>8} /s, eta {r.get('eta_seconds')} s; {rss}",
                      flush=True)
            if any(pr.poll() is not None for _, pr in procs):
                dead = [n for n, pr in procs if pr.poll() is not None]
                sys.exit(f"send-bench: {', '.join(dead)} exited; logs in {work}")
            time.sleep(5)
        # The job's own clock: from its first claim to its end (not this script's polling).
        started, completed = job.get("started_at"), job.get("completed_at")
        if started and completed:
            seconds = max((parse_time(completed) - parse_time(started)).total_seconds(), 0.001)
        else:
            seconds = time.time() - t0
        r = job.get("recipients") or {}
        sent = int(r.get("sent", 0))
        _, metrics = request("GET", f"{crm_url}/metrics")
        metrics = metrics.decode()
        captured = metric(metrics, "mock_crm_captured_total", 'kind="email"')
        repeated = metric(metrics, "mock_crm_duplicates_total", 'kind="email"')
        rate = sent / seconds
        print()
        print(f"job {job_id}: {job['status']}; recipients {json.dumps(r)}")
        print(f"sent {sent:,} of {a.recipients:,} in {seconds:.1f} s: {rate:,.0f} recipients/s")
        print(f"capture: {captured:,.0f} messages, {repeated:,.0f} repeated deliveries")
        peaks = []
        for name, proc in procs:
            peak = rss_kb(proc.pid, "VmHWM") / 1024
            peaks.append(peak)
            cpu = cpu_seconds(proc.pid) - cpu0[name]
            print(f"{name:14} peak RSS {peak:7.1f} MB, CPU {cpu:7.1f} s "
                  f"({100 * cpu / seconds:.0f}% of one core)")
        batches = job.get("batches") or {}
        for worker, n in sorted((batches.get("by_worker") or {}).items()):
            print(f"batches run by {worker}: {n}")
        ok = job["status"] == "completed" and sent == a.recipients \
            and captured - repeated == a.recipients
        if a.check and (rate < 2000 or max(peaks) > 100):
            print("send-bench: below target (>= 2,000 recipients/s, <= 100 MB per process)")
            ok = False
        return 0 if ok else 1
    finally:
        stop_all([proc for _, proc in procs], work=work, keep=a.keep)


if __name__ == "__main__":
    sys.exit(main())
