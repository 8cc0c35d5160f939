"""``chalice`` with TCP_NODELAY: kept as the name the bench's nodelay runs use; the wrapper
itself is infra/chalice_local.py, which ``make run`` now uses too.

    python -m bench.chalice_nodelay local --no-autoreload --port 8000 --stage local
"""

from __future__ import annotations

import sys

from chalice.cli import main

import infra.chalice_local  # noqa: F401  (sets TCP_NODELAY on the dev server's connections)

if __name__ == "__main__":
    sys.argv[0] = "chalice"
    sys.exit(main())
