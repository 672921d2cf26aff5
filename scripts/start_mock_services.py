#!/usr/bin/env python3
"""Start the mock CRM and mock Platform in the background (as `make mock-start`), or stop
them, or show their health: the seed's `python scripts/start_mock_services.py`.

  python scripts/start_mock_services.py            # start both, wait until healthy
  python scripts/start_mock_services.py --status   # one line per mock
  python scripts/start_mock_services.py --stop     # stop what the start started (PID files)

It runs scripts/start-mock-services.sh, stop-mock-services.sh or health-check.sh --mocks-only;
ports MOCK_CRM_PORT and MOCK_PLATFORM_PORT (environment or .env, or the options below),
PID files and logs under LOG_DIR, captures under HALCYTONE_DATA_DIR.
"""

import argparse
import os
import subprocess
import sys

import _halcytone as h


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = p.add_mutually_exclusive_group()
    action.add_argument("--stop", action="store_true", help="stop the mocks started by this script or make mock-start")
    action.add_argument("--status", action="store_true", help="health of both mocks")
    p.add_argument("--crm-port", type=int, help="port of the mock CRM (default MOCK_CRM_PORT)")
    p.add_argument("--platform-port", type=int, help="port of the mock Platform (default MOCK_PLATFORM_PORT)")
    args = p.parse_args()
    env = dict(os.environ)
    if args.crm_port:
        env["MOCK_CRM_PORT"] = str(args.crm_port)
        env.pop("CRM_URL", None)
    if args.platform_port:
        env["MOCK_PLATFORM_PORT"] = str(args.platform_port)
        env.pop("PLATFORM_URL", None)
    scripts = h.ROOT / "scripts"
    if args.stop:
        cmd = [str(scripts / "stop-mock-services.sh")]
    elif args.status:
        cmd = [str(scripts / "health-check.sh"), "--mocks-only"]
    else:
        cmd = [str(scripts / "start-mock-services.sh")]
    return subprocess.run(cmd, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
