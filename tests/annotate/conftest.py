from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("fastapi", reason="mner annotate needs the serve extra: pip install -e '.[serve]'")
pytest.importorskip("uvicorn", reason="mner annotate needs the serve extra: pip install -e '.[serve]'")
