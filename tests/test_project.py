"""Project-level checks: dependency lists agree, notebooks are stored as one clean run and have the required parts."""
import json
import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _conda_dependencies(text: str) -> dict:
    """The top-level `dependencies:` entries of environment.yml (a small, fixed format: `  - name>=x`)."""
    deps, inside = {}, False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            inside = line.startswith("dependencies:")
            continue
        match = re.match(r"^  - ([^:]+)$", line)
        if inside and match:
            spec = match.group(1).strip()
            deps[_name(spec)] = spec.replace(" ", "")
    return deps


def test_environment_yml_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    conda = _conda_dependencies((ROOT / "environment.yml").read_text())
    for requirement in wanted:
        name = _name(requirement)
        assert name in conda, f"environment.yml lacks {requirement!r} (in pyproject.toml)"
        assert conda[name] == requirement.replace(" ", ""), f"versions differ: {conda[name]!r} vs {requirement!r}"
    extra = set(conda) - {_name(r) for r in wanted} - {"python", "pip"}
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {sorted(extra)}"
    assert conda["python"] == "python" + project["requires-python"]


def test_ci_and_makefile_never_use_lax_nbval():
    for path in [ROOT / "Makefile", ROOT / ".ci" / "run"]:
        assert "nbval-lax" not in path.read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_one_clean_run_with_goals_exercises_summary(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    code = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "re-execute with `make notebooks` (one top-to-bottom run)"
    for cell in code:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"stored error output in {path.name}"
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    assert markdown and markdown[0].lstrip().startswith("# "), "first cell: a markdown title"
    assert re.search(r"learning goals", markdown[0], re.I), "learning goals in the first cell"
    headings = [line for text in markdown for line in text.splitlines() if line.startswith("#")]
    assert any(re.search(r"exercises", h, re.I) for h in headings), "an Exercises section"
    assert any(re.search(r"summary", h, re.I) for h in headings), "a Summary section"
    text = json.dumps(nb)
    assert not re.search(r"/(root|home|tmp|work)/", text), "no machine paths in the stored notebook"


# ---------------------------------------------------------------------------------------------------------------
# Solution cells: tagged `solution` (a later step builds student editions from the tag) and collapsed.
# ---------------------------------------------------------------------------------------------------------------
_MARKDOWN_PREFIX = re.compile(r"^(?:\s+|#+|<details(?:\s[^>]*)?>|<summary>|\*+|_+)", re.I)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def is_solution_cell(cell) -> bool:
    """A solution cell is a markdown cell whose first line, after heading marks, `<details><summary>` and emphasis,
    starts with the word "Solution", or a code cell whose first comment line (NBVAL markers skipped) does."""
    lines = [line.strip() for line in _source(cell).splitlines() if line.strip()]
    if not lines:
        return False
    if cell["cell_type"] == "markdown":
        text = lines[0]
        while True:
            stripped = _MARKDOWN_PREFIX.sub("", text, count=1)
            if stripped == text:
                break
            text = stripped
        return re.match(r"solutions?\b", text, re.I) is not None
    if cell["cell_type"] == "code":
        for line in lines:
            if not line.startswith("#"):
                return False
            text = line.lstrip("#").strip()
            if not text or text.upper().startswith("NBVAL_"):
                continue
            return re.match(r"solutions?\b", text, re.I) is not None
    return False


@pytest.mark.parametrize("source, cell_type, expected", [
    ("# Solution (exercise 1)\nx = 1", "code", True),
    ("# NBVAL_IGNORE_OUTPUT\n# Solution (exercise 2)\nx = 1", "code", True),
    ("# solution: exercise 3", "code", True),
    ("x = 1  # Solution", "code", False),
    ("# Solve the system first\nx = 1", "code", False),
    ("<details><summary>Solution (exercise 3)</summary>\n\ntext\n</details>", "markdown", True),
    ("## Solution to exercise 4", "markdown", True),
    ("**Solution.** The sum is ...", "markdown", True),
    ("## Exercises\n\n1. Solution of ...", "markdown", False),
    ("The solution below is collapsed.", "markdown", False),
    ("<details><summary>Hint</summary>try it</details>", "markdown", False),
])
def test_solution_cells_are_recognised(source, cell_type, expected):
    assert is_solution_cell({"cell_type": cell_type, "source": source}) is expected


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_solution_cells_are_tagged_and_collapsed(path):
    cells = json.loads(path.read_text())["cells"]
    solutions = 0
    for i, cell in enumerate(cells):
        first = _source(cell).strip().splitlines()[0][:60] if _source(cell).strip() else ""
        tagged = "solution" in cell.get("metadata", {}).get("tags", [])
        if is_solution_cell(cell):
            solutions += 1
            assert tagged, f"{path.name} cell {i} ({first!r}) is a solution: add the cell tag 'solution'"
            hidden = cell.get("metadata", {}).get("jupyter", {}).get("source_hidden")
            assert hidden is True, f"{path.name} cell {i} ({first!r}) is a solution: collapse it " \
                                   "(metadata jupyter.source_hidden = true)"
        else:
            assert not tagged, f"{path.name} cell {i} ({first!r}) is tagged 'solution' but is not a solution cell"
    assert solutions > 0, f"{path.name}: no solution cells (a code cell starting '# Solution' or a markdown cell " \
                          "starting 'Solution', e.g. '<details><summary>Solution ...')"
