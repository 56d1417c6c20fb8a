"""Where the .tcss files are: inside the wheel (filehost_tui/styles) or in the repo (styles/)."""

from __future__ import annotations

from pathlib import Path

import filehost_tui


def styles_dir() -> Path:
    """The installed copy wins; a source checkout falls back to the top-level styles/ folder."""
    package = Path(filehost_tui.__file__).resolve().parent
    for candidate in (package / "styles", package.parent / "styles"):
        if (candidate / "app.tcss").is_file():
            return candidate
    raise FileNotFoundError(
        f"filehost-tui styles not found in {package / 'styles'} or {package.parent / 'styles'}; "
        "reinstall filehost-tui"
    )
