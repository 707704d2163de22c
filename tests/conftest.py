from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tiny_models import write_tiny_bert

    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """Calibrations (`--precision auto`) and other caches go to a temporary folder, never the user's."""
    import os

    previous = os.environ.get("MNER_CACHE_DIR")
    os.environ["MNER_CACHE_DIR"] = str(tmp_path_factory.mktemp("mner-cache"))
    yield
    if previous is None:
        os.environ.pop("MNER_CACHE_DIR", None)
    else:
        os.environ["MNER_CACHE_DIR"] = previous
