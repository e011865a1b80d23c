"""Where the app's files live: static/ and templates/ beside the package (a checkout), or
under ``CONVSCOPE_ROOT`` when the package is installed elsewhere (the container image)."""

import os
from pathlib import Path

ROOT = Path(os.environ.get("CONVSCOPE_ROOT") or Path(__file__).resolve().parent.parent)
STATIC = ROOT / "static"
TEMPLATES = ROOT / "templates"
