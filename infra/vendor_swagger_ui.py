"""Copy the Swagger UI assets /api-docs serves from the pinned swagger-ui-py package into
chalicelib/static/swagger-ui, so the page works offline and ships inside the Lambda zip.

    python -m infra.vendor_swagger_ui
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE")
TARGET = Path(__file__).resolve().parent.parent / "chalicelib" / "static" / "swagger-ui"


def package_static_dir() -> Path:
    import swagger_ui

    return Path(swagger_ui.__file__).resolve().parent / "static"


def main() -> int:
    source = package_static_dir()
    TARGET.mkdir(parents=True, exist_ok=True)
    for name in ASSETS:
        shutil.copyfile(source / name, TARGET / name)
        print(f"vendored {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
