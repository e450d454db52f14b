"""The user documentation as the tests read it: README.md and docs/*.md.

The README holds what a user needs and docs/ the depth (issue #25); a test that checks a table or a sentence
reads all of them, so that the text can move between the two without the test losing sight of it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def documents() -> list[Path]:
    """README.md first, then docs/*.md by name."""
    return [README, *sorted(DOCS.glob("*.md"))]


def text() -> str:
    """Every document's text, README first, separated by blank lines."""
    return "\n\n".join(path.read_text(encoding="utf-8") for path in documents())
