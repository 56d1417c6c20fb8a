"""filehost-tui: queue files and folders and upload them to file hosts."""

__version__ = "0.1.0"
