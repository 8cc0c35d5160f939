"""``chalice`` with TCP_NODELAY on the local server's connections: the prototype of the fix
recommended in docs/perf/REPORT.md, used only by ``python -m bench full`` to measure it.

``chalice local`` answers with two writes (headers, then body) on a keep-alive connection;
with Nagle's algorithm on, the body waits for the client's delayed ACK (~40 ms on Linux).
``StreamRequestHandler.disable_nagle_algorithm = True`` sets TCP_NODELAY on each accepted
connection, which removes the wait.

    python -m bench.chalice_nodelay local --no-autoreload --port 8000 --stage local
"""

from __future__ import annotations

import sys

from chalice.cli import main
from chalice.local import ChaliceRequestHandler

ChaliceRequestHandler.disable_nagle_algorithm = True

if __name__ == "__main__":
    sys.argv[0] = "chalice"
    sys.exit(main())
