"""Render executed notebooks to static HTML with an index page (lecture material that opens without Jupyter).

Usage: python tools/build_site.py notebooks/*.ipynb --out build/html
"""
import argparse
import html
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter


def title_of(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--out", default="build/html")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    rows = []
    for name in args.notebooks:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        body, _ = exporter.from_notebook_node(nb)
        target = out / (path.stem + ".html")
        target.write_text(body, encoding="utf-8")
        rows.append((target.name, title_of(nb, path.stem)))
        print(f"wrote {target}")
    items = "\n".join(
        f'    <li><a href="{html.escape(href)}">{html.escape(title)}</a></li>' for href, title in rows
    )
    index = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>RNNs from Scratch</title>
<style>body {{ font-family: sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5; }}</style>
</head>
<body>
  <h1>RNNs from Scratch</h1>
  <p>Executed notebooks of the course, in order.</p>
  <ol>
{items}
  </ol>
</body>
</html>
"""
    (out / "index.html").write_text(index, encoding="utf-8")
    print(f"wrote {out / 'index.html'} ({len(rows)} notebooks)")


if __name__ == "__main__":
    main()
