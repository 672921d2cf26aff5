#!/usr/bin/env python3
"""Go-live validation of a running Halcytone: every check in a PASS/FAIL table, exit 1 when
one fails.

  python scripts/go_live_validation.py --host "$API_URL"
  python scripts/go_live_validation.py --expect-dry-run off --api-key "$KEY"

Checks:
  configuration      `halcytone config check` of this machine's environment and .env, in dry run
                     when dry run is expected (--skip-config: not run)
  health             GET /health answers 2xx with status healthy (degraded: WARN)
  readiness          GET /ready answers 200 (database, migrations, upstreams)
  liveness, startup  GET /live and /startup answer 200
  metrics            GET /metrics exports the families the alerts and dashboards use
  dry-run state      halcytone_dry_run_mode and /health's dry_run agree, and match --expect-dry-run
  mock CRM/Platform  /health of both mocks answers, when dry run is on
  egress             halcytone_egress_blocked_total is 0 (nothing tried to leave in dry run)
  preview            POST /api/v2/generate-content preview_only renders every channel
  authentication     GET /api/v2/jobs without a key is refused with 401
  authorised read    GET /api/v2/jobs and /api/v1/database/status with the key (SKIP without one)
  latency            /health p95 over 20 requests under 100 ms (WARN when slower)

Addresses: --host (default API_URL, from PORT), --crm / --platform (default CRM_URL /
MOCK_CRM_PORT and PLATFORM_URL / MOCK_PLATFORM_PORT). The key: --api-key, else API_KEY,
else HALCYTONE_DATA_DIR/api-key.txt. Values come from the environment or .env; defaults in
scripts/lib.sh.
"""

import argparse
import json
import os
import subprocess
import sys

import _halcytone as h

API_FAMILIES = ["halcytone_build_info", "halcytone_dry_run_mode", "halcytone_egress_blocked_total",
                "http_requests_total", "http_request_duration_seconds", "halcytone_jobs",
                "halcytone_publish_total", "halcytone_content_generated_total"]


def parse_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def main():
    cfg = h.settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default=cfg["API_URL"], help="the API (default %(default)s)")
    p.add_argument("--crm", default=cfg["CRM_URL"], help="the mock CRM (default %(default)s)")
    p.add_argument("--platform", default=cfg["PLATFORM_URL"], help="the mock Platform (default %(default)s)")
    p.add_argument("--api-key", default=cfg["API_KEY"], help="a key for the authorised checks")
    p.add_argument("--expect-dry-run", choices=["on", "off", "any"], default="on",
                   help="the dry-run state required (default %(default)s)")
    p.add_argument("--skip-config", action="store_true", help="do not run halcytone config check here")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    args = p.parse_args()
    api, key = args.host.rstrip("/"), args.api_key
    r = h.Report(f"go-live validation of {api}")

    if args.skip_config:
        r.add("configuration", "SKIP", "--skip-config")
    else:
        # As the stack being validated runs: in dry run when dry run is expected.
        env = dict(os.environ, DRY_RUN_MODE="true") if args.expect_dry_run == "on" else None
        out = subprocess.run([h.binary(), "config", "check"], cwd=h.ROOT, env=env, capture_output=True, text=True, check=False)
        errors = [line for line in out.stdout.splitlines() if line.startswith("error")]
        summary = [line for line in out.stdout.splitlines() if line.startswith("ok ")]
        detail = errors[0] if errors else summary[-1] if summary else out.stderr.strip()
        r.passed("configuration", out.returncode == 0, " ".join(detail.split())[:110] + (" (as dry run)" if env else ""))

    status, _, body, _ = h.http(f"{api}/health")
    health = parse_json(body) or {}
    if status == 0:
        r.add("health", "FAIL", f"no answer: {body}")
    else:
        state = health.get("status", "?")
        r.add("health", "PASS" if 200 <= status < 300 and state == "healthy" else "WARN" if state == "degraded" else "FAIL",
              f"HTTP {status}, status {state}")
    status, _, body, _ = h.http(f"{api}/ready")
    failing = [c.get("name") for c in (parse_json(body) or {}).get("checks", []) if not c.get("ready", True)]
    r.passed("readiness", status == 200, f"HTTP {status}" + (f", not ready: {', '.join(map(str, failing))}" if failing else ""))
    for path in ("live", "startup"):
        status = h.http(f"{api}/{path}")[0]
        r.passed(path, status == 200, f"HTTP {status}")

    status, _, metrics, _ = h.http(f"{api}/metrics")
    missing = [f for f in API_FAMILIES if f not in h.metric_families(metrics)] if status == 200 else API_FAMILIES
    r.passed("metrics", status == 200 and not missing,
             f"{len(API_FAMILIES)} families exported" if not missing else f"HTTP {status}, missing: {', '.join(missing)}")
    flag = h.metric_value(metrics, "halcytone_dry_run_mode")
    dry = None if flag is None else flag == 1
    if dry is None:
        r.add("dry-run state", "FAIL", "halcytone_dry_run_mode not reported")
    else:
        agrees = health.get("dry_run") in (None, dry)
        wanted = args.expect_dry_run == "any" or (args.expect_dry_run == "on") == dry
        r.passed("dry-run state", agrees and wanted,
                 f"dry run {'on' if dry else 'off'} (expected {args.expect_dry_run})" + ("" if agrees else "; /health disagrees"))
    if dry:
        for name, url in (("mock CRM", args.crm), ("mock Platform", args.platform)):
            status = h.http(f"{url.rstrip('/')}/health")[0]
            r.passed(name, status == 200, f"{url}/health: HTTP {status}")
    else:
        why = "dry run is off" if dry is False else "dry-run state unknown"
        r.add("mock CRM", "SKIP", why)
        r.add("mock Platform", "SKIP", why)
    if "halcytone_egress_blocked_total" in h.metric_families(metrics):
        blocked = sum(float(line.split()[-1]) for line in metrics.splitlines()
                      if line.startswith("halcytone_egress_blocked_total") and line.split()[-1].replace(".", "", 1).isdigit())
        r.passed("egress", blocked == 0, f"halcytone_egress_blocked_total {blocked:g}")
    else:
        r.add("egress", "FAIL", "halcytone_egress_blocked_total not exported")

    status, _, body, _ = h.http(f"{api}/api/v2/generate-content", "POST", {"preview_only": True}, timeout=30)
    preview = parse_json(body) or {}
    r.passed("preview", status == 200 and bool(preview.get("social_posts")),
             f"HTTP {status}, {len(preview.get('social_posts') or [])} social post(s)" if status == 200 else f"HTTP {status}: {body[:80]}")
    status = h.http(f"{api}/api/v2/jobs")[0]
    r.passed("authentication", status == 401, f"GET /api/v2/jobs without a key: HTTP {status}")
    if key:
        auth = {"Authorization": f"Bearer {key}"}
        status = h.http(f"{api}/api/v2/jobs", headers=auth)[0]
        r.passed("authorised read", status == 200, f"GET /api/v2/jobs with the key: HTTP {status}")
        status, _, body, _ = h.http(f"{api}/api/v1/database/status", headers=auth)
        db = parse_json(body) or {}
        backend = (db.get("configuration") or {}).get("database_type", "?")
        r.passed("database", status == 200, f"HTTP {status}, {backend}, jobs {json.dumps(db.get('jobs', {}), separators=(',', ':'))}")
    else:
        r.add("authorised read", "SKIP", "no key (--api-key, API_KEY or data/api-key.txt)")
        r.add("database", "SKIP", "no key")

    answers = [h.http(f"{api}/health") for _ in range(20)]
    times = sorted(a[3] * 1000 for a in answers)
    if all(a[0] == 200 for a in answers):
        r.passed("latency", times[18] < 100, f"/health p95 {times[18]:.1f} ms (target < 100 ms)", fail="WARN")
    else:
        r.add("latency", "FAIL", "/health did not answer 200 every time")

    r.print(args.json)
    return r.exit_code()


if __name__ == "__main__":
    sys.exit(main())
