"""Fixtures of the retraining tests."""

import shutil
from pathlib import Path

import pytest

from project_paths import NLU_DATA_DIR


@pytest.fixture
def tracker_db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A copy of data/nlu/ to change freely."""
    target = tmp_path / "nlu_data"
    shutil.copytree(NLU_DATA_DIR, target)
    return target
