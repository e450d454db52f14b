"""The README stays a README, and docs/ holds the depth (issue #25): the README's size, every relative link of
the README and docs/ (a file, and a heading in it), and the module map of docs/development.md against the
package's files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs_text import DOCS, README, ROOT, documents

MAX_README_BYTES = 25_000
PACKAGE = ROOT / "resource" / "sagemaker_pipeline_resource"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings, those inside code blocks left out."""
    found, fenced = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"#+ (.*)", line)):
            found.add(slug(heading[1]))
    return found


def relative_links(path: Path) -> list[str]:
    """The links of a Markdown file that point inside the repository (not http:, https: or mailto:)."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return [link for link in LINK.findall(text) if not re.match(r"[a-z]+:", link)]


def test_the_readme_is_at_most_25000_bytes() -> None:
    size = len(README.read_bytes())
    assert size <= MAX_README_BYTES, f"README.md is {size} bytes: move depth to docs/ (at most {MAX_README_BYTES})"


def test_the_readme_links_every_page_of_docs() -> None:
    linked = {(README.parent / link.split("#")[0]).resolve() for link in relative_links(README) if "#" != link[0]}
    pages = set(DOCS.glob("*.md"))
    assert pages, "docs/ holds no page"
    assert not {page.resolve() for page in pages} - linked, "pages of docs/ that the README does not link"


@pytest.mark.parametrize("document", documents(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves_to_a_file_and_a_heading(document: Path) -> None:
    links = relative_links(document)
    assert links or document.parent == DOCS, f"{document.name} links nothing"
    for link in links:
        target, _, anchor = link.partition("#")
        path = (document.parent / target).resolve() if target else document
        assert path.exists(), f"{document.relative_to(ROOT)}: {link} points to no file"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path), f"{document.relative_to(ROOT)}: {link}: no such heading in {path.name}"


def module_map() -> set[str]:
    """What docs/development.md's "Layout" names: `pkg/` for a sub-package and `pkg/module.py` for its modules."""
    text = (DOCS / "development.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    named: set[str] = set()
    for item in section.split("\n- ")[1:]:
        bullet = item.split("\n\n", 1)[0]
        package = re.match(r"`(\w+)/`", bullet)
        prefix = f"{package[1]}/" if package else ""
        named |= {prefix} - {""}
        named |= {prefix + name for name in re.findall(r"`(\w+\.py)`", bullet)}
    return named


def package_files() -> set[str]:
    """The package's modules as the map names them: a sub-package's ``__init__.py`` is the sub-package."""
    files = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts}
    return {name.removesuffix("__init__.py") if "/" in name else name for name in files}


def test_the_module_map_matches_the_package() -> None:
    named, present = module_map(), package_files()
    assert not present - named, f"modules missing from docs/development.md's Layout: {sorted(present - named)}"
    assert not named - present, f"docs/development.md's Layout names what is not there: {sorted(named - present)}"
