"""``chalice local`` with TCP_NODELAY on the dev server's connections.

The dev server answers with two writes (headers, then body); on a keep-alive connection with
Nagle's algorithm on, the body waits for the client's delayed ACK, about 40 ms on Linux, for
every response. Measured in docs/perf/REPORT.md: one client went from 17.5 to 89.7 holds/s.
API Gateway is not affected; this only concerns the local server.

    python -m infra.chalice_local local --no-autoreload --port 8000 --stage local
"""

from __future__ import annotations

import sys

from chalice.cli import main
from chalice.local import ChaliceRequestHandler

ChaliceRequestHandler.disable_nagle_algorithm = True

if __name__ == "__main__":
    sys.argv[0] = "chalice"
    sys.exit(main())
