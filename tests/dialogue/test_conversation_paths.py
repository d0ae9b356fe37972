"""Runs Rasa's own conversation tests on the trained model; any wrong prediction fails."""

import json
import subprocess
import sys

from project_paths import DEFAULT_MODEL, REPO_ROOT

STORIES = REPO_ROOT / "tests" / "dialogue" / "conversations.yml"


def test_conversation_paths(tmp_path):
    assert DEFAULT_MODEL.exists(), "No trained model: run `make train`."
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "test",
            "core",
            "--model",
            str(DEFAULT_MODEL),
            "--stories",
            str(STORIES),
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
            "--no-plot",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    assert result.returncode == 0, (
        (failed.read_text() if failed.exists() else "") + result.stdout[-3000:] + result.stderr[-3000:]
    )
    report = json.loads((tmp_path / "story_report.json").read_text())
    accuracy = report["conversation_accuracy"]
    assert accuracy["accuracy"] == 1.0
    assert accuracy["total"] == STORIES.read_text().count("- story:")
