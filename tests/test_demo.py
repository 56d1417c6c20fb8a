"""`filehost-tui demo --headless`: the newcomer's first command works end to end on loopback."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.engine_harness import REPO


def test_headless_demo_uploads_everything_shows_a_retry_and_prints_links(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "filehost_tui", "--home", str(tmp_path), "demo", "--headless"],
        capture_output=True,
        text=True,
        timeout=180,
        # a shared queue the user chose is not the demo's: it never connects there
        env={
            **os.environ,
            "PYTHONPATH": str(REPO),
            "FILEHOST_TUI_DATABASE_URL": "postgresql://u@127.0.0.1:1/nowhere",
        },
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "will retry" in out and "gofile" in out
    links = [
        line for line in out.splitlines() if line.startswith("  ") and "http://127.0.0.1:" in line
    ]
    assert len(links) == 8
    assert "finished: 8 completed and 0 failed" in out
    # the demo keeps to its own home: the user's queue is untouched
    assert not (tmp_path / "filehost-tui.db").exists()
