#!/usr/bin/env python3
"""The mock Platform (web and social publishing), started the way the seed documents start it:

  python mocks/platform_service.py &       # then: curl localhost:$MOCK_PLATFORM_PORT/health
  python mocks/platform_service.py --port 9102 > logs/platform-mock.log 2>&1 &

It becomes `halcytone mock platform` (the process is replaced, so its PID is the service's
and `kill $!` stops it) on MOCK_PLATFORM_PORT (environment or .env; default in
scripts/lib.sh), keeping its captures in HALCYTONE_DATA_DIR. `make mock-start` runs both
mocks in the background with PID files instead.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import _halcytone  # noqa: E402

if __name__ == "__main__":
    _halcytone.mock_main("platform", "MOCK_PLATFORM_PORT", __doc__)
