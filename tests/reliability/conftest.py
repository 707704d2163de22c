from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))  # data_image_factory
sys.path.insert(0, str(Path(__file__).parent))  # post_strategies
