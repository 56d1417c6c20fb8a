"""One widget per module: hosts panel, uploads table, bandwidth sparkline, filter bar."""
