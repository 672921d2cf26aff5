#!/usr/bin/env python3
"""The mock CRM, started the way the seed documents start it:

  python mocks/crm_service.py &            # then: curl localhost:$MOCK_CRM_PORT/health
  python mocks/crm_service.py --port 9101 > logs/crm-mock.log 2>&1 &

It becomes `halcytone mock crm` (the process is replaced, so its PID is the service's and
`kill $!` stops it) on MOCK_CRM_PORT (environment or .env; default in scripts/lib.sh),
keeping its captures in HALCYTONE_DATA_DIR. `make mock-start` runs both mocks in the
background with PID files instead.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import _halcytone  # noqa: E402

if __name__ == "__main__":
    _halcytone.mock_main("crm", "MOCK_CRM_PORT", __doc__)
