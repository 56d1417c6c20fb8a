"""`postgres://` is the scheme many tools and hosting panels write: it names the same server as
`postgresql://` (docs/architecture.md, 'Two databases')."""

from __future__ import annotations

import json

import pytest

from tests.cli_support import cli


@pytest.mark.parametrize("scheme", ["postgres", "POSTGRES", "PostgreSQL"])
def test_a_postgres_url_opens_the_same_queue(tmp_path, pg_url, sample_file, scheme):
    assert pg_url.startswith("postgresql://")
    other = f"{scheme}://{pg_url.removeprefix('postgresql://')}"
    added = cli(
        tmp_path / "a", "--db", other, "add", str(sample_file), "--host", "catbox", "--anywhere"
    )
    assert (added.returncode, added.stderr) == (0, "")
    status = cli(tmp_path / "b", "--db", pg_url, "status", "--json")
    [row] = json.loads(status.stdout)["uploads"]
    assert row["item"] == sample_file.name and row["status"] == "pending"
