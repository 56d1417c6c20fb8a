"""Comments cite the project's own docs by heading, and every citation leads somewhere.

The syntax is `docs/<file>.md, '<heading>'` (docs/architecture.md, 'How code cites these pages').
A renamed heading or a removed page fails here instead of leaving comments that point at nothing,
and a citation of the design document shared between teams (not part of the project) fails too.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"(docs/[\w.-]+\.md), '([^'\n]+)'")
FOREIGN = re.compile(
    r"DESIGN(\.md)?\s*§|DESIGN\.md|\bcontracts?\s+(§\s*\w+|[A-Z]\b)|issue's lifecycle"
)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


def headings(page: Path) -> set[str]:
    """Markdown headings outside fenced code blocks."""
    found: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            found.add(match.group(1))
    return found


def problems(text: str, where: str, root: Path = REPO) -> list[str]:
    found = []
    for match in CITATION.finditer(text):
        page, heading = root / match.group(1), match.group(2)
        if not page.is_file():
            found.append(f"{where}: cites {match.group(1)}, which does not exist")
        elif heading not in headings(page):
            found.append(f"{where}: cites {match.group(0)}, but that page has no such heading")
    for match in FOREIGN.finditer(text):
        found.append(f"{where}: cites {match.group(0)!r}; cite docs/<file>.md, '<heading>'")
    return found


def sources() -> list[Path]:
    files = sorted((REPO / "filehost_tui").rglob("*.py")) + sorted((REPO / "tests").glob("*.py"))
    return [f for f in files if f != Path(__file__).resolve()]


def test_every_citation_names_an_existing_page_and_heading() -> None:
    found = [
        p
        for f in sources()
        for p in problems(f.read_text(encoding="utf-8"), str(f.relative_to(REPO)))
    ]
    assert found == []


def test_the_code_does_cite_both_pages() -> None:
    cited = {
        m.group(1) for f in sources() for m in CITATION.finditer(f.read_text(encoding="utf-8"))
    }
    assert cited >= {"docs/architecture.md", "docs/host-specs.md"}


def test_a_broken_or_foreign_citation_is_reported() -> None:
    text = (
        "see docs/architecture.md, 'State machine' and docs/architecture.md, 'No such part';\n"
        "docs/nowhere.md, 'Intro'; the DESIGN §4 table; contract D; contracts §E"
    )
    found = problems(text, "x.py")
    assert len(found) == 5
    assert "No such part" in found[0] and "nowhere.md" in found[1]
    assert all("x.py: " in p for p in found)
