"""The terminal UI. Imported only when the TUI opens: the CLI and the runner never pay for Textual."""
