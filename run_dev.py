#!/usr/bin/env python3
"""Run Halcytone for development, as the seed documents do with `python run_dev.py`; the API
then answers on PORT (environment or .env; default in scripts/lib.sh).

Which stack it starts:
  - when both mocks already answer (MOCK_CRM_PORT, MOCK_PLATFORM_PORT; e.g. started with
    `python mocks/crm_service.py &` and `python mocks/platform_service.py &`, or
    `make mock-start`): the API alone, `halcytone serve --dry-run`, publishing to them;
  - otherwise: `halcytone up`, the API, both mocks and the worker in one process.
--serve and --up choose explicitly. The process is replaced by the binary (Ctrl-C stops it).

With serve, a living document is needed: LIVING_DOC_ID when configured, else the bundled
samples/living-document.md; the database is DATABASE_URL (default halcytone.db in
HALCYTONE_DATA_DIR); the API key is API_KEY, else the data directory's api-key.txt.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "scripts"))
import _halcytone as h  # noqa: E402


def main():
    cfg = h.settings()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--serve", action="store_true", help="the API alone, against mocks already running")
    mode.add_argument("--up", action="store_true", help="the API, both mocks and the worker in one process")
    p.add_argument("--port", type=int, default=int(cfg["API_PORT"]), help="API port (default PORT: %(default)s)")
    args = p.parse_args()

    crm, platform = cfg["CRM_URL"], cfg["PLATFORM_URL"]
    serve = args.serve or (not args.up and all(h.http(f"{u}/health", timeout=2)[0] == 200 for u in (crm, platform)))
    os.makedirs(cfg["DATA_DIR"], exist_ok=True)
    os.chdir(h.ROOT)
    if not serve:
        print(f"run_dev: halcytone up (API on {args.port}, mocks on {cfg['MOCK_CRM_PORT']} and {cfg['MOCK_PLATFORM_PORT']})", file=sys.stderr)
        h.exec_binary(["up", "--port", str(args.port), "--crm-port", cfg["MOCK_CRM_PORT"],
                       "--platform-port", cfg["MOCK_PLATFORM_PORT"], "--data-dir", cfg["DATA_DIR"],
                       "--log-dir", cfg["LOG_DIR"]])
    env = dict(os.environ, DATABASE_URL=cfg["DATABASE_URL"], MOCK_CRM_BASE_URL=crm, MOCK_PLATFORM_BASE_URL=platform,
               LOG_DIR=cfg["LOG_DIR"], PORT=str(args.port))
    if cfg["API_KEY"]:
        env["API_KEY"] = cfg["API_KEY"]
    if not h.config_value("LIVING_DOC_ID") and not h.config_value("LIVING_DOC_TYPE"):
        env.update(LIVING_DOC_TYPE="file", LIVING_DOC_ID=str(h.ROOT / "samples" / "living-document.md"))
    print(f"run_dev: halcytone serve --dry-run on {args.port}, publishing to the mocks at {crm} and {platform}", file=sys.stderr)
    h.exec_binary(["serve", "--dry-run"], env)


if __name__ == "__main__":
    main()
