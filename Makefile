# Two commands do everything: `make lab` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

# One BLAS thread: stored notebook outputs are reproducible and timings are comparable.
export OMP_NUM_THREADS      := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS      := 1
export VECLIB_MAXIMUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))

.PHONY: help venv lab test unit nbval notebooks html student torch browser bench clean

help:
	@echo "make lab        create .venv if needed and open Jupyter Lab on notebooks/"
	@echo "make test       create .venv if needed, run unit tests and strict nbval on every notebook"
	@echo "make notebooks  re-execute every notebook in place (the only way stored outputs are made)"
	@echo "make html       the offline lecture site in build/html/ (open build/html/index.html)"
	@echo "make student    student editions (solutions removed) in build/student/"
	@echo "make torch      optional: install the CPU build of PyTorch for the comparison tests"
	@echo "make browser    optional: install Chromium (Debian) for the offline-site browser test"
	@echo "make bench      run the benchmarks (prints figures)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(STAMP)

# Jupyter refuses to run as root unless told; containers often run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(ALLOW_ROOT)

test: $(STAMP)
	$(BIN)/python -m pytest tests $(NOTEBOOKS) --nbval --nbval-current-env \
	    --nbval-sanitize-with notebooks/nbval.cfg --durations=15

unit: $(STAMP)
	$(BIN)/python -m pytest tests

nbval: $(STAMP)
	$(BIN)/python -m pytest $(NOTEBOOKS) --nbval --nbval-current-env \
	    --nbval-sanitize-with notebooks/nbval.cfg --durations=15

notebooks: $(STAMP)
	$(BIN)/python tools/run_notebooks.py $(NOTEBOOKS)

# The lecture site, rendered from the stored outputs (never executed); works from file:// with no network.
html: $(STAMP)
	rm -rf build/html
	$(BIN)/python tools/build_site.py $(NOTEBOOKS) --out build/html

# Student editions: cells tagged `solution` removed, "your answer here" stubs, exercise outputs cleared.
student: $(STAMP)
	rm -rf build/student
	$(BIN)/python tools/student_editions.py $(NOTEBOOKS) --out build/student

# Optional Chromium (Debian's package) for the offline-site browser test; it skips without a browser.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Optional PyTorch (CPU build) for the comparison tests; they skip without it.
torch: $(STAMP)
	$(BIN)/python -m pip install --quiet 'torch==2.13.0+cpu'

bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/bench_layers.py
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/bench_gru_forms.py

clean:
	rm -rf build .pytest_cache
