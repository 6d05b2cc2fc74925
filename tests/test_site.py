"""The offline lecture site (`make html`, tools/build_site.py) and the student editions (`make student`,
tools/student_editions.py): built here into temporary folders from the notebooks as they are stored.

- No page references a script, style or font by an http(s) URL (always checked); in headless Chromium (skipped when
  no browser is installed) every page typesets its math from file:// with the network cut off and asks no other host.
- Every page has the course's table of contents, previous/next links, its sections, its downloads; the landing page
  is the README's notebook table.
- Student editions: no solution survives, every non-exercise cell is unchanged, a stub (that runs) stands where a code
  solution stood, no cell left reads a name only a solution defines; each edition executing top to bottom (nbclient)
  is opt-in with STUDENT_EXECUTE=1, as it costs about as much as nbval on the same notebooks.
"""
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import build_site  # noqa: E402
import student_editions  # noqa: E402

pytestmark = pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks")


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _is_solution(cell) -> bool:
    return "solution" in _tags(cell)


# ---------------------------------------------------------------------------------------------------------------
# Builds (once per test module)
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built with every way of executing a notebook made to fail: pages come from stored outputs."""
    import nbclient
    from nbconvert.preprocessors import ExecutePreprocessor

    def refuse(*args, **kwargs):
        raise AssertionError("the site build must not execute notebooks")

    out = tmp_path_factory.mktemp("site") / "html"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nbclient.NotebookClient, "execute", refuse)
        mp.setattr(nbclient.NotebookClient, "async_execute", refuse)
        mp.setattr(ExecutePreprocessor, "preprocess", refuse)
        start = time.perf_counter()
        build_site.build([str(p) for p in NOTEBOOKS], out)
        print(f"site built in {time.perf_counter() - start:.1f} s")
    return out


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    student_editions.main([str(p) for p in NOTEBOOKS] + ["--out", str(out)])
    return out


def _pages(site):
    return [site / f"{p.stem}.html" for p in NOTEBOOKS]


def _all_html(site):
    return sorted(site.rglob("*.html"))


# ---------------------------------------------------------------------------------------------------------------
# The site without a browser
# ---------------------------------------------------------------------------------------------------------------
class _Resources(HTMLParser):
    """Everything a page would load: script/img/iframe/source src, link href, CSS url()/@import, inline scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls, self.inline_js, self.css, self._in = [], [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed", "track") and attrs.get("src"):
            self.urls.append((tag, attrs["src"]))
        if tag == "link" and attrs.get("href"):
            self.urls.append(("link", attrs["href"]))
        if tag == "object" and attrs.get("data"):
            self.urls.append(("object", attrs["data"]))
        if attrs.get("style"):
            self.css.append(attrs["style"])
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.inline_js.append(data)
        elif self._in == "style":
            self.css.append(data)


_REMOTE = re.compile(r"^\s*(https?:)?//", re.I)
_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)


def _resources(text):
    parser = _Resources()
    parser.feed(text)
    urls = list(parser.urls)
    for css in parser.css:
        urls += [("css", u) for u in _CSS_URL.findall(css)]
    return urls, parser.inline_js


def test_site_has_a_page_per_notebook_an_index_and_local_mathjax(site):
    for page in _pages(site):
        assert page.is_file(), f"no page {page.name}"
    assert (site / "index.html").is_file()
    assert (site / build_site.MATHJAX_DIR / "MathJax.js").is_file()
    assert (site / build_site.MATHJAX_DIR / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()


def test_no_page_references_a_script_style_or_font_by_url(site):
    css_files = sorted((site / "_static").glob("*.css"))
    assert css_files
    for path in _all_html(site) + css_files:
        text = path.read_text(encoding="utf-8")
        urls, inline_js = _resources(text) if path.suffix == ".html" else ([("css", u) for u in _CSS_URL.findall(text)], [])
        remote = [u for u in urls if _REMOTE.match(u[1])]
        assert not remote, f"{path.name} loads from the network: {remote}"
        for js in inline_js:
            assert not re.search(r"""['"(]\s*(https?:)?//""", js), f"{path.name}: an inline script names a URL"
        if path.suffix == ".html":
            for kind, url in urls:  # every local resource is in the site (relative paths only)
                if url.startswith("data:"):
                    continue
                assert not url.startswith(("/", "file:")), f"{path.name}: absolute path {url}"
                target = (path.parent / url.split("?")[0].split("#")[0]).resolve()
                assert target.is_file(), f"{path.name}: {kind} {url} is not in the site"


def test_pages_load_mathjax_by_relative_path(site):
    for page in _pages(site):
        urls, _ = _resources(page.read_text(encoding="utf-8"))
        scripts = [u for kind, u in urls if kind == "script"]
        assert any(u.startswith(build_site.MATHJAX_DIR + "/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full")
                   for u in scripts), f"{page.name}: {scripts}"


def _links(text):
    return re.findall(r'<a\b[^>]*\bhref="([^"]+)"[^>]*>(.*?)</a>', text, re.S)


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.found.append(dict(attrs))


def _anchor_attrs(text):
    parser = _Anchors()
    parser.feed(text)
    return parser.found


def test_every_page_has_contents_prev_next_sections_and_downloads(site):
    hrefs = [f"{p.stem}.html" for p in NOTEBOOKS]
    for k, page in enumerate(_pages(site)):
        text = page.read_text(encoding="utf-8")
        sidebar = text[text.index('class="course-sidebar"'):text.index("</nav>", text.index('class="course-sidebar"'))]
        listed = [h for h, _ in _links(sidebar) if h in hrefs]
        assert listed == hrefs, f"{page.name}: table of contents {listed}"
        current = re.findall(r'<li class="current">\s*<a\b[^>]*\bhref="([^"]+)"', sidebar)
        assert current == [page.name], f"{page.name}: the current page is marked as {current}"
        sections = [html.unescape(a) for a in re.findall(r'<a href="#([^"]+)">', sidebar)]
        assert sections, f"{page.name}: no sections in the sidebar"
        ids = {html.unescape(i) for i in re.findall(r'\bid="([^"]+)"', text)}
        for anchor in sections:
            assert anchor in ids, f"{page.name}: section link #{anchor} has no target"
        anchors = _anchor_attrs(text)
        prev = [a["href"] for a in anchors if a.get("rel") == "prev"]
        nxt = [a["href"] for a in anchors if a.get("rel") == "next"]
        assert prev == ([hrefs[k - 1]] * 2 if k > 0 else []), f"{page.name}: previous links {prev}"
        assert nxt == ([hrefs[k + 1]] * 2 if k + 1 < len(hrefs) else []), f"{page.name}: next links {nxt}"
        downloads = [h for h, _ in _links(text) if h.endswith(".ipynb")]
        assert f"student/{NOTEBOOKS[k].name}" in downloads and f"notebooks/{NOTEBOOKS[k].name}" in downloads
        for href in downloads:
            assert (site / href).is_file(), f"{page.name}: download {href} missing"


def test_pages_show_the_learning_goals_first_figures_inline_and_solutions_collapsed(site):
    for path, page in zip(NOTEBOOKS, _pages(site)):
        nb = json.loads(path.read_text())
        text = page.read_text(encoding="utf-8")
        main = text[text.index('<main id="course-main">'):]
        goals = re.search(r"learning goals", main, re.I)
        first_code = main.find("jp-CodeCell")
        assert goals and (first_code < 0 or goals.start() < first_code), f"{page.name}: learning goals not on top"
        pngs = sum("image/png" in out.get("data", {}) for c in nb["cells"] for out in c.get("outputs", []))
        assert main.count("data:image/png;base64,") >= pngs, f"{page.name}: figures not inline"
        solutions = sum(_is_solution(c) for c in nb["cells"])
        collapsed = len(re.findall(r"<details[^>]*>\s*<summary>\s*Solution", main))
        assert collapsed >= solutions, f"{page.name}: {solutions} solutions, {collapsed} collapsed"


def test_landing_page_is_the_readme_table_with_every_notebook(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        assert f'href="{path.stem}.html"' in index, f"index does not link {path.stem}"
        assert f'href="student/{path.name}"' in index, f"index does not offer the student edition of {path.stem}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"^## The notebooks\s*\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert table, "README has no 'The notebooks' section"
    rows = [line for line in table.group(1).splitlines() if re.match(r"^\|\s*`\d\d-", line)]
    assert rows
    for row in rows:
        name = re.search(r"`(\d\d-[^`]+)`", row).group(1)
        assert f"<code>{name}</code>" in index, f"index lacks the README row {name}"


def test_student_folder_of_the_site_holds_the_editions(site, student):
    for path in NOTEBOOKS:
        assert (site / "student" / path.name).read_bytes() == (student / path.name).read_bytes()


# ---------------------------------------------------------------------------------------------------------------
# Student editions
# ---------------------------------------------------------------------------------------------------------------
_SOLUTION_LINE = re.compile(r"^\s*(?:#+\s*|<details[^>]*>\s*|<summary>\s*|\*\*|__|>\s*)+solutions?\b", re.I | re.M)


def _exercise_code_indices(cells):
    """Indices of the cells under an "Exercises" heading, up to the next heading of the same or higher level
    (the heading's own cell excluded): an independent reading of the rule the tool follows."""
    found, level = [], None
    for i, cell in enumerate(cells):
        heads = []
        if cell["cell_type"] == "markdown":
            heads = [ln for ln in _source(cell).splitlines() if re.match(r"^#{1,6}\s", ln)]
        opened = closed = False
        for line in heads:
            depth = len(line) - len(line.lstrip("#"))
            if re.match(r"^#+\s+exercises?\b", line, re.I):
                level, opened = depth, True
            elif level is not None and depth <= level:
                level, closed = None, True
        if level is not None and not opened and not closed:
            found.append(i)
    return set(found)


def _pairs(path, student):
    original = json.loads(path.read_text())
    edition = json.loads((student / path.name).read_text())
    return original, edition


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_edition_has_no_solution(path, student):
    _, edition = _pairs(path, student)
    for i, cell in enumerate(edition["cells"]):
        assert not _is_solution(cell), f"cell {i} is tagged 'solution'"
        text = _source(cell)
        if cell["cell_type"] == "code":  # a code solution is known by its first comment line
            lines = [ln for ln in text.splitlines() if ln.strip() and "NBVAL_" not in ln]
            text = lines[0] if lines else ""
        match = _SOLUTION_LINE.search(text)
        assert not match, f"cell {i} still has a solution heading: {match.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_edition_keeps_every_other_cell_and_stubs_code_solutions(path, student):
    original, edition = _pairs(path, student)
    exercises = _exercise_code_indices(original["cells"])
    expected = []  # (cell as it must be, is it a stub?) from the original, by the rules
    for i, cell in enumerate(original["cells"]):
        if _is_solution(cell):
            if cell["cell_type"] == "code":
                expected.append((None, True))
            continue
        if i in exercises and cell["cell_type"] == "code":
            cell = copy.deepcopy(cell)
            cell["outputs"], cell["execution_count"] = [], None
        expected.append((cell, False))
    assert len(edition["cells"]) == len(expected), "cells added or lost"
    for k, ((want, stub), got) in enumerate(zip(expected, edition["cells"])):
        if stub:
            assert got["cell_type"] == "code" and "answer here" in _source(got).lower(), f"cell {k}: no stub"
            assert got["outputs"] == [] and got["execution_count"] is None
            compile(_source(got), f"stub {k}", "exec")
            exec(compile(_source(got), f"stub {k}", "exec"), {})  # raises nothing
        else:
            assert got == want, f"cell {k} ({_source(want)[:50]!r}) changed"
    keys = set(original) | set(edition)
    assert {k: original.get(k) for k in keys if k != "cells"} == {k: edition.get(k) for k in keys if k != "cells"}


def test_student_editions_are_byte_stable(student, tmp_path):
    student_editions.main([str(p) for p in NOTEBOOKS] + ["--out", str(tmp_path)])
    for path in NOTEBOOKS:
        assert (tmp_path / path.name).read_bytes() == (student / path.name).read_bytes()


def _names(source: str):
    """(names a code cell binds, names it reads), from its Python after IPython's magics are transformed."""
    import ast
    import builtins

    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse(TransformerManager().transform_cell(source))
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, read - set(dir(builtins))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_kept_cell_reads_a_name_only_a_solution_defines(path):
    """The cheap, always-run half of "the student edition runs": no cell that stays reads a name that only a
    removed solution binds (the stubs themselves are comments, checked above). The full run is the next test."""
    cells = json.loads(path.read_text())["cells"]
    kept_bound, from_solutions = set(), {}
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        bound, read = _names(_source(cell))
        if _is_solution(cell):
            for name in bound - kept_bound:
                from_solutions.setdefault(name, i)
            continue
        missing = sorted(n for n in read if n in from_solutions and n not in kept_bound and n not in bound)
        assert not missing, f"cell {i} reads {missing}, defined only by solution cell(s) " \
                            f"{sorted({from_solutions[n] for n in missing})}: the student edition would fail"
        kept_bound |= bound


@pytest.mark.skipif(not os.environ.get("STUDENT_EXECUTE"),
                    reason="runs every student edition (minutes, like nbval): set STUDENT_EXECUTE=1 to run")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_edition_executes_top_to_bottom(path, student, tmp_path):
    """The learner's first run: every cell, stubs included, runs without error (in a scratch folder). Opt-in:
    executing all editions costs about as much as nbval on the notebooks (2.5 to 3.7 min measured with 00-05 on
    this shared 2-core machine, 05 alone 74 to 161 s, growing with every notebook), too much to add to every
    `make test`."""
    from nbclient import NotebookClient

    shutil.copy2(student / path.name, tmp_path / path.name)
    nb = nbformat.read(tmp_path / path.name, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError naming the cell on the first error
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


# ---------------------------------------------------------------------------------------------------------------
# In a browser: typesetting with no network, and no request to another host
# ---------------------------------------------------------------------------------------------------------------
def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


needs_browser = pytest.mark.skipif(_browser() is None, reason="no headless Chromium installed (apt-get install chromium)")


def _open_offline(url: str, workdir: Path):
    """Open url in headless Chromium with every host name unresolvable; return (DOM after scripts ran, the URLs
    the page itself asked the network stack for). Chromium's own background requests are told apart by their
    initiator ("not an origin") and ignored; nothing leaves the machine as no name resolves."""
    netlog = workdir / "netlog.json"
    cmd = [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", f"--user-data-dir={workdir / 'profile'}",
           "--host-resolver-rules=MAP * ~NOTFOUND", f"--log-net-log={netlog}",
           "--virtual-time-budget=30000", "--dump-dom", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = netlog.read_text(errors="replace").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut at exit: close the events list
        log = json.loads(text.rstrip(",") + "]}")
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requested = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if names.get(event.get("type")) == "URL_REQUEST_START_JOB" and "url" in params:
            if params.get("initiator") != "not an origin":
                requested.append(params["url"])
    return proc.stdout, requested


class _VisibleText(HTMLParser):
    SKIP = {"script", "style", "pre", "code", "textarea", "math", "annotation"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


@needs_browser
def test_browser_check_sees_a_request_to_another_host(tmp_path):
    """The check below is not blind: a page that loads a CDN script is caught."""
    page = tmp_path / "probe.html"
    page.write_text('<html><head><script src="https://cdn.invalid/x.js"></script></head><body>x</body></html>')
    _, requested = _open_offline(page.as_uri(), tmp_path)
    assert "https://cdn.invalid/x.js" in requested


@needs_browser
def test_every_page_typesets_offline_and_asks_no_other_host(site, tmp_path):
    for k, page in enumerate([site / "index.html"] + _pages(site)):
        dom, requested = _open_offline(page.as_uri(), tmp_path / str(k))
        remote = [u for u in requested if not u.startswith(("file:", "data:", "blob:"))]
        assert not remote, f"{page.name} asked the network for {remote}"
        if page.name == "index.html":
            continue
        assert 'data-math="typeset"' in dom, f"{page.name}: MathJax did not finish typesetting"
        assert re.search(r'class="MathJax(_Display|_SVG|_CHTML)?"', dom), f"{page.name}: no typeset math"
        failed = re.findall(r'class="[^"]*\b(?:MathJax_Error|merror|noError)\b[^>]*>(.{0,80})', dom)
        assert not failed, f"{page.name}: a formula failed to typeset: {failed[:3]}"
        parser = _VisibleText()
        parser.feed(dom)
        text = "".join(parser.parts)
        for raw in ("$$", "\\(", "\\[", "\\begin{"):
            at = text.find(raw)
            assert at < 0, f"{page.name}: raw math {text[max(0, at - 60):at + 60]!r}"
        inline = re.search(r"\$[^$\n]*\\[A-Za-z]+[^$\n]*\$", text)
        assert not inline, f"{page.name}: raw inline math {inline.group(0)[:80]!r}"
