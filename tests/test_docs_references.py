"""References from code and docs into `docs/`: each `docs/NAME.md §N` names an existing file with
a heading numbered N, and no reference points outside the repository (a bare "facts §N")."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED_SUFFIXES = (".py", ".md", ".yaml")
SKIPPED_DIRS = ("__pycache__", "node_modules")
SKIPPED_PATHS = ("results/runs",)  # run folders: data, not sources
THIS_FILE = Path(__file__).resolve()  # holds made-up references for the unit tests below

DOC = re.compile(r"docs/([\w-]+\.md)")
SECTION = re.compile(r"\s*§(\d+(?:\.\d+)*)")
ASIDE = re.compile(r"\s*\([^()\n]*\)")  # "§4.1 (official map) + §4.3": a note between two sections
JOIN = re.compile(r"\s*(?:,|\+|and)(?=\s*§)")
BARE = re.compile(r"(?<![\w./-])(?:facts|design)(?:\s*§|\s\d+\.\d|:\s)")
HEADING = re.compile(r"#{1,6}\s+(\d+(?:\.\d+)*)\.?(?:\s|$)")


def section_references(text: str) -> list[tuple[str, str]]:
    """(file name, section number) of every `docs/NAME.md §N` in `text`, including continued lists
    such as `docs/NAME.md §2.1, §6.2`; a `docs/NAME.md` without a section gives (name, "")."""
    found = []
    for match in DOC.finditer(text):
        position, sections = match.end(), []
        while section := SECTION.match(text, position):
            sections.append(section.group(1))
            position = section.end()
            aside = ASIDE.match(text, position)
            join = JOIN.match(text, aside.end() if aside else position)
            if not join:
                break
            position = join.end()
        found += [(match.group(1), number) for number in sections or [""]]
    return found


def bare_references(text: str) -> list[str]:
    """Old-style references ("facts §3", "design §4", "facts 5.1", "facts: ...") left in `text`."""
    return [match.group(0) for match in BARE.finditer(text)]


def heading_numbers(markdown: str) -> set[str]:
    """Numbers that start a heading of a markdown text ("## 2. Blocks" -> "2"), outside code fences."""
    numbers, fenced = set(), False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            numbers.add(match.group(1))
    return numbers


def unresolved(references: list[tuple[str, str]], docs_dir: Path) -> list[str]:
    """The references whose file is missing or has no heading with that number."""
    missing = []
    for name, number in references:
        path = docs_dir / name
        if not path.is_file():
            missing.append(f"docs/{name} (no such file)")
        elif number and number not in heading_numbers(path.read_text(encoding="utf-8")):
            missing.append(f"docs/{name} §{number} (no heading {number})")
    return missing


def _scanned_dir(root: Path, folder: Path) -> bool:
    name = folder.name
    hidden_or_built = name.startswith(".") or name in SKIPPED_DIRS or name.endswith(".egg-info")
    return not hidden_or_built and folder.relative_to(root).as_posix() not in SKIPPED_PATHS


def scanned_files(root: Path) -> list[Path]:
    """The repository's .py, .md and .yaml files, without hidden folders, caches and run folders."""
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if _scanned_dir(root, Path(folder) / d)]
        files += [Path(folder) / n for n in names if n.endswith(SCANNED_SUFFIXES)]
    return sorted(f for f in files if f.resolve() != THIS_FILE)


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {f.relative_to(ROOT).as_posix(): f.read_text(encoding="utf-8") for f in scanned_files(ROOT)}


def test_every_docs_reference_resolves_to_a_heading(sources):
    problems = [f"{path}: {item}" for path, text in sources.items()
                for item in unresolved(section_references(text), ROOT / "docs")]
    assert not problems, "\n".join(problems)


def test_no_reference_points_outside_the_repository(sources):
    problems = [f"{path}: {item!r}" for path, text in sources.items() for item in bare_references(text)]
    assert not problems, "\n".join(problems)


def test_the_code_cites_both_documents(sources):
    cited = {name for text in sources.values() for name, number in section_references(text) if number}
    assert {"facts.md", "design.md"} <= cited


def test_scanner_reads_lists_and_asides():
    text = "see docs/facts.md §2.1, §6.2; docs/facts.md §4.1 (official map) + §4.3 (49S-paper) and docs/x.md"
    assert section_references(text) == [
        ("facts.md", "2.1"), ("facts.md", "6.2"), ("facts.md", "4.1"), ("facts.md", "4.3"), ("x.md", "")
    ]
    assert section_references("docs/facts.md §1.2: paper §3 (Table 1)") == [("facts.md", "1.2")]


def test_made_up_references_fail(tmp_path):
    (tmp_path / "real.md").write_text("# Title\n## 1. One\n### 1.2 Sub\n```\n## 3. fenced\n```\n", encoding="utf-8")
    references = section_references("docs/real.md §1, §1.2 docs/real.md §3 docs/real.md §2 docs/none.md §1")
    assert unresolved(references, tmp_path) == [
        "docs/real.md §3 (no heading 3)",
        "docs/real.md §2 (no heading 2)",
        "docs/none.md (no such file)",
    ]


def test_bare_references_are_found():
    text = "(facts §3) design §4 (facts 5.1) (facts: not found) docs/facts.md §3 the facts it relies on"
    assert bare_references(text) == ["facts §", "design §", "facts 5.1", "facts: "]
