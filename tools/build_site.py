"""Render the executed notebooks to a static lecture site that works offline, with an index page.

Usage: python tools/build_site.py notebooks/[0-9][0-9]-*.ipynb --out build/html

Run through `make html`; open build/html/index.html in a browser (file:// is fine, no server, no network).
- Each notebook is rendered from its stored outputs (never executed) with nbconvert's JupyterLab template, extended
  by tools/site_template/course: a sidebar with the course's table of contents and the page's sections,
  previous/next links, solutions collapsed, downloads of the notebook and of its student edition.
- Math is typeset by MathJax 2.7 from the jupyter-server-mathjax package (the `dev` extra), copied to
  _static/mathjax/. No page requests anything from another host: no CDN script, style or font.
- The landing page is the README's notebook table, each notebook linked to its page and its student edition.
- Student editions (tools/student_editions.py, the same files `make student` writes) are written to student/.
"""
import argparse
import html
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import markdown2html_mistune

sys.path.insert(0, str(Path(__file__).resolve().parent))
from student_editions import write_editions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "site_template"
SITE_TITLE = "RNNs from Scratch"
MATHJAX_DIR = "_static/mathjax"
_NB_NAME = re.compile(r"^\d\d-[A-Za-z0-9_.-]+$")


def mathjax_source() -> Path:
    """MathJax 2.7 as jupyter-server-mathjax ships it (config TeX-AMS-MML_HTMLorMML-full, STIX-Web fonts)."""
    try:
        import jupyter_server_mathjax
    except ImportError:  # pragma: no cover - the dev extra installs it
        sys.exit("jupyter-server-mathjax is missing: run `make html` (it installs the dev extra into .venv)")
    static = Path(jupyter_server_mathjax.__file__).resolve().parent / "static"
    if not (static / "MathJax.js").is_file():  # pragma: no cover
        sys.exit(f"no MathJax.js in {static}")
    return static


def title_of(nb, fallback):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def solution_label(source: str) -> str:
    """"Solution (exercise 3)" from a solution cell's first lines, for the collapsed block's summary."""
    for line in source.strip().splitlines()[:3]:
        match = re.search(r"exercises?\s+(\d+[a-z]?)", line, re.I)
        if match:
            return f"Solution (exercise {match.group(1)})"
    return "Solution"


def page_sections(body: str):
    """(id, text) of the h2 headings nbconvert rendered from the notebook's markdown, in order."""
    main = body[body.find('<main id="course-main">'):]
    found = []
    for match in re.finditer(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', main, re.S):
        text = re.sub(r"<[^>]+>", "", match.group(2)).replace("¶", "").strip()
        found.append((match.group(1), html.unescape(text)))
    return found


def section_list(sections) -> str:
    if not sections:
        return ""
    items = "".join(f'<li><a href="#{html.escape(i)}">{html.escape(t)}</a></li>' for i, t in sections)
    return f'<ul class="course-sections">{items}</ul>'


def readme_parts(readme: Path):
    """The README's first paragraph and its "The notebooks" table (markdown), or empty strings."""
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    intro = ""
    paragraphs = re.split(r"\n\s*\n", text)
    for para in paragraphs:
        if para.strip() and not para.lstrip().startswith("#"):
            intro = para.strip()
            break
    match = re.search(r"^## The notebooks\s*\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    table = ""
    if match:
        table = "\n".join(line for line in match.group(1).splitlines() if line.startswith("|"))
    return intro, table


def sidebar(pages, current=None) -> str:
    items = []
    for page in pages:
        cls = ' class="current"' if page["href"] == current else ""
        items.append(f'    <li{cls}><a href="{page["href"]}">{html.escape(page["title"])}</a></li>')
    return (f'<nav class="course-sidebar" aria-label="Course contents">\n'
            f'  <a class="course-home" href="index.html">{SITE_TITLE}</a>\n'
            f'  <ol class="course-toc">\n' + "\n".join(items) + "\n  </ol>\n"
            f'  <div class="course-downloads"><a href="student/index.html">All student editions</a></div>\n</nav>')


def escape_outside_code(markdown: str) -> str:
    """Markdown whose `<` and `>` outside code spans are text, not HTML: the README writes x^(i)<t>."""
    parts = re.split(r"(`[^`]*`)", markdown)
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;").replace(">", "&gt;") for p in parts)


def index_page(pages, readme: Path) -> str:
    intro, table = readme_parts(readme)
    intro, table = escape_outside_code(intro), escape_outside_code(table)
    by_stem = {p["stem"]: p for p in pages}
    listed = set()
    body = markdown2html_mistune(table) if table else ""

    def link(match):
        stem = match.group(1)
        page = by_stem.get(stem)
        if not page:
            return match.group(0)
        listed.add(stem)
        return (f'<td><a href="{page["href"]}"><code>{html.escape(stem)}</code></a>'
                f'<a class="download" href="{page["student_href"]}" download>student edition (.ipynb)</a></td>')

    body = re.sub(r"<td><code>([^<]+)</code></td>", link, body)
    missing = [p for p in pages if p["stem"] not in listed]
    if missing:  # notebooks the README's table does not list (yet): still on the landing page
        rows = "".join(
            f'<tr><td><a href="{p["href"]}"><code>{html.escape(p["stem"])}</code></a>'
            f'<a class="download" href="{p["student_href"]}" download>student edition (.ipynb)</a></td>'
            f'<td>{html.escape(p["title"])}</td></tr>' for p in missing)
        if "</tbody>" in body:
            body = body.replace("</tbody>", rows + "</tbody>", 1)
        else:
            body = f"<table><thead><tr><th>notebook</th><th>title</th></tr></thead><tbody>{rows}</tbody></table>"
    intro_html = markdown2html_mistune(intro) if intro else ""
    first = f'<a class="next" href="{pages[0]["href"]}">Start: {html.escape(pages[0]["title"])} →</a>' if pages else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{SITE_TITLE}</title>
<link rel="stylesheet" href="_static/course.css">
</head>
<body class="course-index">
{sidebar(pages)}
<div class="course-content">
<main id="course-main">
<h1>{SITE_TITLE}</h1>
{intro_html}
<h2>The notebooks</h2>
{body}
<h2>Student editions</h2>
<p>Each notebook without its solutions: the solution cells removed, a cell marked "your answer here" where a code
solution stood, the exercise cells without outputs. Download one from the table above or from
<a href="student/index.html">the student folder</a>, and open it in Jupyter (<code>make lab</code>).</p>
<p>Every page works offline: the equations are typeset by a copy of MathJax inside this folder.</p>
</main>
<nav class="course-pager course-pager-bottom">{first}</nav>
</div>
</body>
</html>
"""


def student_index(pages) -> str:
    items = "\n".join(f'  <li><a href="{Path(p["student_href"]).name}" download>{html.escape(Path(p["student_href"]).name)}'
                      f'</a> · {html.escape(p["title"])}</li>' for p in pages)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{SITE_TITLE}: student editions</title>
<link rel="stylesheet" href="../_static/course.css"></head>
<body class="course-index"><div class="course-content" style="margin-left:2rem">
<p><a href="../index.html">← {SITE_TITLE}</a></p>
<h1>Student editions</h1>
<ol>
{items}
</ol>
</div></body>
</html>
"""


def build(notebooks, out: Path, readme: Path = ROOT / "README.md") -> list:
    start = time.perf_counter()
    paths = sorted(Path(n) for n in notebooks)
    bad = [p.name for p in paths if not _NB_NAME.match(p.stem)]
    if bad:
        sys.exit(f"not course notebooks (NN-name.ipynb): {bad}")
    out.mkdir(parents=True, exist_ok=True)
    static = out / "_static"
    static.mkdir(exist_ok=True)
    shutil.copy2(TEMPLATES / "static" / "course.css", static / "course.css")
    shutil.copytree(mathjax_source(), out / MATHJAX_DIR, dirs_exist_ok=True)

    (out / "notebooks").mkdir(exist_ok=True)
    write_editions([str(p) for p in paths], out / "student")
    notebooks_read = []
    pages = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        notebooks_read.append(nb)
        shutil.copy2(path, out / "notebooks" / path.name)
        pages.append({"stem": path.stem, "href": f"{path.stem}.html", "title": title_of(nb, path.stem),
                      "student_href": f"student/{path.name}", "source_href": f"notebooks/{path.name}"})

    exporter = HTMLExporter(template_name="course", extra_template_basedirs=[str(TEMPLATES)], theme="light")
    exporter.register_filter("solution_label", solution_label)
    written = []
    for k, (path, nb, page) in enumerate(zip(paths, notebooks_read, pages)):
        course = {
            "site_title": SITE_TITLE,
            "mathjax": f"{MATHJAX_DIR}/MathJax.js",
            "css": "_static/course.css",
            "pages": [dict(p, current=(p is page)) for p in pages],
            "prev": pages[k - 1] if k > 0 else None,
            "next": pages[k + 1] if k + 1 < len(pages) else None,
            "student_href": page["student_href"],
            "source_href": page["source_href"],
            "source_name": path.name,
        }
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": page["title"]}, "course": course})
        body = body.replace("<!--course-page-toc-->", section_list(page_sections(body)), 1)
        target = out / page["href"]
        target.write_text(body, encoding="utf-8")
        written.append(target)
        print(f"wrote {target}")
    (out / "index.html").write_text(index_page(pages, readme), encoding="utf-8")
    (out / "student" / "index.html").write_text(student_index(pages), encoding="utf-8")
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out / 'index.html'} ({len(pages)} notebooks, {size / 1e6:.1f} MB, "
          f"{time.perf_counter() - start:.1f} s)")
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--out", default="build/html")
    parser.add_argument("--readme", default=str(ROOT / "README.md"), help="whose notebook table is the landing page")
    args = parser.parse_args(argv)
    build(args.notebooks, Path(args.out), Path(args.readme))


if __name__ == "__main__":
    main()
