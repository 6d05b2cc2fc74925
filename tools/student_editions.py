"""Student editions of the notebooks: the cells tagged `solution` removed, a "your answer here" cell where a code
solution stood, the outputs of the exercise cells cleared, everything else identical.

Usage: python tools/student_editions.py notebooks/[0-9][0-9]-*.ipynb --out build/student

Run through `make student`. Nothing is executed: the editions are made from the stored notebooks.
"""
import argparse
import re
from pathlib import Path

import nbformat
from nbconvert.preprocessors import TagRemovePreprocessor

SOLUTION_TAG = "solution"
ANSWER_TAG = "answer"  # the stub cells this tool adds, so a reader (or a test) can tell them from course cells
_EXERCISES = re.compile(r"^(#{1,6})\s+exercises?\b", re.I)
_HEADING = re.compile(r"^(#{1,6})\s")
_EXERCISE_NUMBER = re.compile(r"exercises?\s+(\d+[a-z]?)", re.I)


def _headings(cell):
    """The markdown heading lines of a cell, outside fenced code blocks."""
    if cell.cell_type != "markdown":
        return []
    lines, fenced = [], False
    for line in cell.source.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and _HEADING.match(line):
            lines.append(line)
    return lines


def exercise_cells(nb):
    """Indices of the cells under the "Exercises" heading (up to the next heading of the same or a higher level),
    not counting the cell that holds the heading itself. Solutions are included: callers tell them by the tag."""
    inside, level, found = False, 0, []
    for i, cell in enumerate(nb.cells):
        heads = _headings(cell)
        closes = False
        for line in heads:
            match = _EXERCISES.match(line)
            if match:
                inside, level, closes = True, len(match.group(1)), False
                continue
            if inside and len(_HEADING.match(line).group(1)) <= level:
                inside, closes = False, True
        if inside and not closes and not any(_EXERCISES.match(line) for line in heads):
            found.append(i)
    return found


def is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def answer_stub(solution_cell, nbformat_minor: int):
    """The cell a learner writes in, where a code solution stood. A comment only, so it runs without error."""
    first = solution_cell.source.strip().splitlines()[0] if solution_cell.source.strip() else ""
    number = _EXERCISE_NUMBER.search(first)
    label = f"Exercise {number.group(1)}: your" if number else "Your"
    stub = nbformat.v4.new_code_cell(f"# {label} answer here\n", metadata={"tags": [ANSWER_TAG]})
    if nbformat_minor >= 5 and solution_cell.get("id"):
        stub.id = (solution_cell.id[:57] + "-answer")  # deterministic, so editions are byte-stable
    elif nbformat_minor < 5:
        stub.pop("id", None)
    return stub


def student_edition(nb):
    """A new notebook: solutions removed by nbconvert's TagRemovePreprocessor, an answer stub after each code
    solution's place, outputs of the remaining exercise cells cleared. The input is not modified."""
    nb = nbformat.from_dict(nb)  # a deep copy
    exercises = set(exercise_cells(nb))
    cells = []
    for i, cell in enumerate(nb.cells):
        cell.metadata["_student_exercise"] = i in exercises
        cells.append(cell)
        if is_solution(cell) and cell.cell_type == "code":
            stub = answer_stub(cell, nb.nbformat_minor)
            stub.metadata["_student_exercise"] = True
            cells.append(stub)
    nb.cells = cells
    remover = TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True)
    nb, _ = remover.preprocess(nb, {})
    for cell in nb.cells:
        if cell.metadata.pop("_student_exercise") and cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def write_editions(paths, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in paths:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        edition = student_edition(nb)
        nbformat.validate(edition)
        target = out / path.name
        nbformat.write(edition, target)
        removed = sum(is_solution(c) for c in nb.cells)
        print(f"wrote {target} ({removed} solution cells removed)")
        written.append(target)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--out", default="build/student")
    args = parser.parse_args(argv)
    write_editions(args.notebooks, Path(args.out))


if __name__ == "__main__":
    main()
