"""Imported first by every benchmark script: puts this checkout ahead on sys.path, so
`python bench/X.py` measures the code beside it even when another copy is installed."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
