"""The log file every face writes: rotated, private (0600), with secrets masked."""

from __future__ import annotations

import logging

from filehost_tui.paths import AppPaths
from filehost_tui.redact import install_log_redaction
from filehost_tui.safe_files import RotatingPrivateFileHandler, private_dir

LOG_NAME = "filehost-tui.log"


def setup_file_logging(paths: AppPaths) -> logging.Handler:
    private_dir(paths.log_dir)
    handler = RotatingPrivateFileHandler(
        paths.log_dir / LOG_NAME,
        maxBytes=5 * 1024 * 1024,
        backupCount=3,
        encoding="utf-8",
        errors="backslashreplace",  # a file name that is not UTF-8 must not lose the line
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("filehost_tui")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    install_log_redaction(handler)
    return handler
