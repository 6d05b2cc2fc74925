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
