#!/usr/bin/env python3
"""Pre-production checks: is this configuration, and the service at --host, fit to go live?
Every check in a PASS/FAIL table; exit 1 when one fails.

  python scripts/pre_production_checks.py --host https://production
  python scripts/pre_production_checks.py --host "http://127.0.0.1:$PORT" --env-file production.env

Checks:
  configuration   `halcytone config check` with ENVIRONMENT=production (placeholder keys, live
                  upstreams, CORS, …) of this machine's environment and .env, plus --env-file
  transport       --host is https, or a loopback address (http elsewhere would carry API keys in clear)
  health          GET /health answers 2xx with status healthy; its environment is reported
  readiness       GET /ready answers 200
  dry-run state   /health's dry_run and halcytone_dry_run_mode match --expect-dry-run (default off:
                  production publishes for real)
  authentication  GET /api/v2/jobs without a key is refused with 401
  CORS            a request from an unlisted origin is not granted (no `*`, no echo of that origin)
  metrics         GET /metrics answers with the API's families
  egress          halcytone_egress_blocked_total is 0

The API address defaults to API_URL (from PORT; environment or .env, defaults in scripts/lib.sh).
"""

import argparse
import json
import os
import subprocess
import sys
import urllib.parse

import _halcytone as h


def main():
    cfg = h.settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=cfg["API_URL"], help="the service to check (default %(default)s)")
    p.add_argument("--env-file", help="variables of the production configuration (KEY=VALUE lines, as .env)")
    p.add_argument("--expect-dry-run", choices=["on", "off", "any"], default="off",
                   help="the dry-run state required (default %(default)s)")
    p.add_argument("--skip-config", action="store_true", help="do not run halcytone config check here")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args()
    api = args.host.rstrip("/")
    r = h.Report(f"pre-production checks of {api}")

    if args.skip_config:
        r.add("configuration", "SKIP", "--skip-config")
    else:
        env = dict(os.environ)
        if args.env_file:
            if not os.path.isfile(args.env_file):
                p.error(f"--env-file {args.env_file}: no such file")
            # lib.sh's reader, so the file means what it means to the other scripts.
            out = subprocess.run(["bash", "-c", 'source "$1"; load_env_file "$2"; env -0', "_", str(h.LIB),
                                  os.path.abspath(args.env_file)], capture_output=True, text=True, check=True)
            env = dict(item.split("=", 1) for item in out.stdout.split("\0") if "=" in item)
        env["ENVIRONMENT"] = "production"
        out = subprocess.run([h.binary(), "config", "check"], cwd=h.ROOT, env=env, capture_output=True, text=True, check=False)
        errors = [" ".join(line.split()) for line in out.stdout.splitlines() if line.startswith("error")]
        summary = [line for line in out.stdout.splitlines() if line.startswith("ok ")]
        detail = f"{len(errors)} error(s); first: {errors[0]}" if errors else " ".join((summary[-1] if summary else out.stderr.strip()).split())
        r.passed("configuration", out.returncode == 0, detail[:140])

    url = urllib.parse.urlparse(api)
    loopback = url.hostname in ("localhost", "127.0.0.1", "::1")
    r.passed("transport", url.scheme == "https" or loopback,
             f"{url.scheme}://{url.hostname}" + (" (loopback)" if loopback and url.scheme != "https" else ""))

    status, _, body, _ = h.http(f"{api}/health")
    try:
        health = json.loads(body) if status else {}
    except ValueError:
        health = {}
    r.passed("health", 200 <= status < 300 and health.get("status") == "healthy",
             f"HTTP {status}, status {health.get('status', '?')}, environment {health.get('environment', '?')}"
             if status else f"no answer: {body}")
    status = h.http(f"{api}/ready")[0]
    r.passed("readiness", status == 200, f"HTTP {status}")

    status, _, metrics, _ = h.http(f"{api}/metrics")
    families = h.metric_families(metrics) if status == 200 else set()
    r.passed("metrics", {"halcytone_build_info", "halcytone_dry_run_mode", "http_requests_total"} <= families,
             f"HTTP {status}, {len(families)} families")
    flag = h.metric_value(metrics, "halcytone_dry_run_mode")
    dry = health.get("dry_run") if isinstance(health.get("dry_run"), bool) else (None if flag is None else flag == 1)
    if dry is None:
        r.add("dry-run state", "FAIL", "neither /health nor /metrics reports it")
    else:
        wanted = args.expect_dry_run == "any" or (args.expect_dry_run == "on") == dry
        r.passed("dry-run state", wanted, f"dry run {'on' if dry else 'off'} (expected {args.expect_dry_run})")

    status = h.http(f"{api}/api/v2/jobs")[0]
    r.passed("authentication", status == 401, f"GET /api/v2/jobs without a key: HTTP {status}")
    origin = "https://unlisted-origin.invalid"
    status, headers, _, _ = h.http(f"{api}/health", headers={"Origin": origin})
    allowed = {k.lower(): v for k, v in headers.items()}.get("access-control-allow-origin", "")
    if status:
        r.passed("CORS", allowed not in ("*", origin), f"Access-Control-Allow-Origin for {origin}: {allowed or '(none)'}")
    else:
        r.add("CORS", "FAIL", "no answer")
    if families:
        blocked = sum(float(line.split()[-1]) for line in metrics.splitlines()
                      if line.startswith("halcytone_egress_blocked_total") and line.split()[-1].replace(".", "", 1).isdigit())
        r.passed("egress", blocked == 0, f"halcytone_egress_blocked_total {blocked:g}")
    else:
        r.add("egress", "SKIP", "no metrics")

    r.print(args.json)
    return r.exit_code()


if __name__ == "__main__":
    sys.exit(main())
