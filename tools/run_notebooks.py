"""Re-execute notebooks in place, top to bottom: the only way their stored outputs are made.

Usage: python tools/run_notebooks.py notebooks/00-*.ipynb [...]
Prints the wall time of each notebook. Run through `make notebooks`, which pins BLAS to one thread.
"""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def coalesce_streams(nb) -> None:
    """Merge consecutive stdout/stderr chunks of a cell: how the kernel happened to flush them is not content,
    and merging keeps re-executed notebooks byte-stable."""
    for cell in nb.cells:
        merged = []
        for out in cell.get("outputs", []):
            prev = merged[-1] if merged else None
            if (out.output_type == "stream" and prev is not None and prev.output_type == "stream"
                    and prev.name == out.name):
                prev.text += out.text
            else:
                merged.append(out)
        if "outputs" in cell:
            cell.outputs = merged


def execute_in_place(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=False,  # no timestamps in the stored notebook
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    elapsed = time.perf_counter() - start
    coalesce_streams(nb)
    nbformat.write(nb, path)
    return elapsed


def main(paths):
    if not paths:
        sys.exit("usage: run_notebooks.py NOTEBOOK.ipynb [...]")
    total = 0.0
    for p in paths:
        seconds = execute_in_place(Path(p))
        total += seconds
        print(f"{p}: {seconds:.1f} s", flush=True)
    print(f"all {len(paths)} notebooks: {total:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
