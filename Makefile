# Set-up and the everyday commands. Needs only Python 3.11+ (and make).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run demo test test-slow test-floors bench lint docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

run: $(VENV)/.installed   ## the main job: deepfin run on the embedded S&P 500 sample (report in runs/<time>/)
	$(VENV)/bin/deepfin run

demo: $(VENV)/.installed   ## Klaas (2019)'s two-moons Keras code, run on deepfin
	$(PY) examples/keras_moons.py

test: $(VENV)/.dev-installed   ## the test suite (PyTorch is the gradient oracle)
	$(PY) -m pytest

test-slow: $(VENV)/.dev-installed   ## the long tests make test leaves out (kill runs: 100 saves, 20 runs)
	$(PY) -m pytest -m slow

test-floors:   ## the tests in a fresh .venv-floors with every dependency at its declared floor (.ci/floors)
	PYTHON=$(PYTHON) bash .ci/floors

$(VENV)/.bench-installed: $(VENV)/.dev-installed
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.bench-installed   ## deepfin against the lean NumPy loop, PyTorch, scikit-learn, Keras and JAX
	$(PY) benchmarks/peers.py
	$(PY) benchmarks/overhead.py
	$(PY) benchmarks/recurrent.py --rows 20000

$(VENV)/.docs-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[docs]"
	touch $@

docs: $(VENV)/.docs-installed   ## the documentation site, built into site/ (open site/index.html; warnings are errors)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check src tests benchmarks examples

clean:
	rm -rf $(VENV) .venv-floors .pytest_cache .ruff_cache site
