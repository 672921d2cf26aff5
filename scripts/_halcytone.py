"""Shared helpers of the Python scripts (standard library only). Import it; do not run it.

The configuration comes from scripts/lib.sh, so the Python tools read the same ports,
addresses and paths as the shell scripts: the environment, then .env, then lib.sh's defaults.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "scripts" / "lib.sh"

# Variables lib.sh computes.
NAMES = [
    "API_PORT", "API_URL", "MOCK_CRM_PORT", "MOCK_PLATFORM_PORT", "CRM_URL", "PLATFORM_URL",
    "PROMETHEUS_URL", "ALERTMANAGER_URL", "DATA_DIR", "LOG_DIR", "BACKUP_DIR",
]

_cache = {}


def _bash(script, *args):
    out = subprocess.run(["bash", "-c", script, "_", str(LIB), *args],
                         capture_output=True, text=True, check=False)
    return out


def settings():
    """The scripts' settings as lib.sh computes them, plus DATABASE_URL and API_KEY."""
    if "settings" not in _cache:
        script = ('source "$1"; for n in ' + " ".join(NAMES) + '; do printf "%s=%s\\0" "$n" "${!n}"; done; '
                  'printf "DATABASE_URL=%s\\0" "$(database_url)"; printf "API_KEY=%s\\0" "$(api_key)"')
        out = _bash(script)
        if out.returncode != 0:
            sys.exit(f"cannot read the configuration through {LIB}: {out.stderr.strip()}")
        _cache["settings"] = dict(item.split("=", 1) for item in out.stdout.split("\0") if item)
    return _cache["settings"]


def config_value(name, default=""):
    """NAME from the environment, else .env, else DEFAULT (lib.sh's config_value)."""
    out = _bash('source "$1"; config_value "$2" "$3"', name, default)
    return out.stdout.rstrip("\n") if out.returncode == 0 else default


def binary():
    """The halcytone binary (HALCYTONE_BIN, target/release, target/debug, PATH); exits if none."""
    out = _bash('source "$1"; halcytone_bin')
    if out.returncode != 0 or not out.stdout.strip():
        sys.exit(out.stderr.strip() or "halcytone binary not found")
    return out.stdout.strip()


def exec_binary(args, env=None):
    """Replaces this process with the binary (same PID: `kill $!` stops the service)."""
    path = binary()
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(path, [path, *args], env if env is not None else os.environ)


def http(url, method="GET", body=None, headers=None, timeout=10.0):
    """Returns (status, headers, body text, seconds); status 0 and the error as body when no
    answer came."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body.encode() if isinstance(body, str) else body
    # Content-Type only with a body: /metrics answers JSON to a request that names JSON.
    base = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers={**base, **(headers or {})})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace"), time.monotonic() - started
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace"), time.monotonic() - started
    except (urllib.error.URLError, OSError) as e:
        return 0, {}, str(getattr(e, "reason", e)), time.monotonic() - started


def metric_families(text):
    """Names of the families in a Prometheus exposition (its `# TYPE` lines)."""
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ") and len(line.split()) >= 4}


def metric_value(text, name):
    """The value of an unlabelled sample NAME, or None."""
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == name:
            try:
                return float(parts[1])
            except ValueError:
                return None
    return None


class Report:
    """Checks with a result each (PASS, FAIL, WARN, SKIP), printed as a table."""

    def __init__(self, title):
        self.title = title
        self.rows = []

    def add(self, check, result, detail=""):
        self.rows.append((check, result, detail))
        return result

    def passed(self, check, ok, detail="", fail="FAIL"):
        return self.add(check, "PASS" if ok else fail, detail)

    def failed(self):
        return [r for r in self.rows if r[1] == "FAIL"]

    def print(self, as_json=False):
        if as_json:
            print(json.dumps({"title": self.title, "checks": [{"check": c, "result": r, "detail": d} for c, r, d in self.rows],
                              "failed": len(self.failed())}, indent=2))
            return
        width = max([len(c) for c, _, _ in self.rows] + [5])
        print(f"{self.title}\n")
        print(f"{'CHECK'.ljust(width)}  RESULT  DETAIL")
        for c, r, d in self.rows:
            print(f"{c.ljust(width)}  {r.ljust(6)}  {d}")
        counts = {k: sum(1 for _, r, _ in self.rows if r == k) for k in ("PASS", "FAIL", "WARN", "SKIP")}
        print(f"\n{counts['PASS']} passed, {counts['FAIL']} failed, {counts['WARN']} warning(s), {counts['SKIP']} skipped")

    def exit_code(self):
        return 1 if self.failed() else 0


def mock_main(service, port_variable, doc):
    """The body of mocks/crm_service.py and mocks/platform_service.py."""
    import argparse

    cfg = settings()
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=int(cfg[port_variable]),
                   help=f"port to listen on (default {port_variable}: %(default)s)")
    p.add_argument("--host", help="address to bind (default MOCK_HOST, else 127.0.0.1)")
    p.add_argument("--data-dir", default=cfg["DATA_DIR"], help="directory of the capture database (default %(default)s)")
    args = p.parse_args()
    argv = ["mock", service, "--port", str(args.port), "--data-dir", args.data_dir]
    if args.host:
        argv += ["--host", args.host]
    os.makedirs(args.data_dir, exist_ok=True)
    exec_binary(argv)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_all(procs, timeout=20, work=None, keep=False):
    """SIGTERM to every process still running, then a wait of `timeout` seconds each before
    SIGKILL: what the benchmarks started, stopped. With `work`, the benchmark's directory
    is then removed, or kept and named when `keep`."""
    import signal
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    if work is None:
        return
    if keep:
        print(f"data and logs kept in {work}")
    else:
        import shutil
        shutil.rmtree(work, ignore_errors=True)
