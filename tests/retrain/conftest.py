"""Fixtures of the retraining tests."""
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tracker_db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A copy of nlu/data/ to change freely."""
    target = tmp_path / "nlu_data"
    shutil.copytree(REPO_ROOT / "nlu" / "data", target)
    return target
