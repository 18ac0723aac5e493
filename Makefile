# Two commands do all the set-up on a fresh machine:
#   make demo   -- the main job: a digit classifier trained three ways (about 1 min of set-up)
#   make test   -- the test suite (JAX and PyTorch are installed there only as oracles)
# `make test-fast` runs a quick subset; `make tour` walks through the engine section by section;
# `make features` measures the feature table against JAX, PyTorch and Nabla; `make docs`
# rewrites the API reference.
# `make bench` runs the side-by-side benchmarks (nabla_like without jax; JAX and PyTorch
# in venvs of their own).

PYTHON ?= python3
VENV := .venv
TEST_VENV := .venv-test
JAX_VENV := .venv-jax
TORCH_VENV := .venv-torch
PIP_FLAGS := -q --disable-pip-version-check

NABLA_VENV := .venv-nabla

.PHONY: demo tour test test-fast notebooks bench features docs clean

$(VENV)/.stamp: pyproject.toml
	@echo "== setting up $(VENV): nabla_like with jaxlib, scikit-learn, tqdm (about a minute, once)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) --progress-bar on -e ".[demo]"
	touch $@

$(TEST_VENV)/.stamp: pyproject.toml
	@echo "== setting up $(TEST_VENV): nabla_like plus the test oracles (JAX, PyTorch CPU) and Jupyter"
	@echo "   (a few minutes, once: torch is a large download)"
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install $(PIP_FLAGS) --progress-bar on -e ".[test]"
	touch $@

$(JAX_VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(JAX_VENV)
	$(JAX_VENV)/bin/pip install $(PIP_FLAGS) numpy "jax==0.10.2" "jaxlib==0.10.2"
	touch $@

$(TORCH_VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/pip install $(PIP_FLAGS) numpy "torch==2.13.0"
	touch $@

demo: $(VENV)/.stamp
	$(VENV)/bin/python -m nabla_like.demo

tour: $(VENV)/.stamp
	$(VENV)/bin/python -m nabla_like.tour

# The whole suite on 2 workers, with a progress line and the slowest tests at the end.
test: $(TEST_VENV)/.stamp
	@echo "== running the test suite on 2 workers (about 10 minutes on 2 cores)"
	$(TEST_VENV)/bin/python -m pytest -n 2 --durations=15 tests

# A quick subset for iterating: everything but the op-table sweeps, notebooks and subprocess runs.
test-fast: $(TEST_VENV)/.stamp
	$(TEST_VENV)/bin/python -m pytest -n 2 -m "not slow" tests

# Re-run every notebook in place, so that the committed files hold their outputs.
notebooks: $(TEST_VENV)/.stamp
	cd notebooks && for f in *.ipynb; do ../$(TEST_VENV)/bin/jupyter-execute --inplace $$f || exit 1; done

$(VENV)/.bench-stamp: $(VENV)/.stamp
	$(VENV)/bin/pip install $(PIP_FLAGS) -e ".[demo,bench]"
	touch $@

bench: $(VENV)/.bench-stamp $(JAX_VENV)/.stamp $(TORCH_VENV)/.stamp
	$(VENV)/bin/python benchmarks/run.py --nabla-python $(VENV)/bin/python \
		--jax-python $(JAX_VENV)/bin/python --torch-python $(TORCH_VENV)/bin/python

# Nabla (nabla-ml) for the feature table: its newest releases need a nightly of Modular's
# `max` that PyPI does not carry, so this is the newest pair that installs from PyPI.
$(NABLA_VENV)/.stamp:
	$(PYTHON) -m venv $(NABLA_VENV)
	$(NABLA_VENV)/bin/pip install $(PIP_FLAGS) numpy "max==25.7.0"
	$(NABLA_VENV)/bin/pip install $(PIP_FLAGS) --no-deps "nabla-ml==25.10271359"
	touch $@

# The feature table: each capability probed in each library (benchmarks/results/features.md).
features: $(VENV)/.stamp $(JAX_VENV)/.stamp $(TORCH_VENV)/.stamp $(NABLA_VENV)/.stamp
	$(VENV)/bin/python benchmarks/features.py --nabla-python $(VENV)/bin/python \
		--jax-python $(JAX_VENV)/bin/python --torch-python $(TORCH_VENV)/bin/python \
		--nabla-ml-python $(NABLA_VENV)/bin/python

# The API reference, docs/api.md, from the docstrings (the tests check that it is current).
docs: $(VENV)/.stamp
	$(VENV)/bin/python docs/make_api.py

clean:
	rm -rf $(VENV) $(TEST_VENV) $(JAX_VENV) $(TORCH_VENV) $(NABLA_VENV) *.egg-info
