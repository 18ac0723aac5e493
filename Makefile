# Two commands do all the set-up on a fresh machine:
#   make demo   -- the main job: the engine and its transforms at work
#   make test   -- the test suite (JAX is installed there only as a reference oracle)
# `make bench` runs the side-by-side benchmarks (nabla_like without jax; JAX and PyTorch
# in venvs of their own).

PYTHON ?= python3
VENV := .venv
TEST_VENV := .venv-test
JAX_VENV := .venv-jax
TORCH_VENV := .venv-torch
PIP_FLAGS := -q --disable-pip-version-check

.PHONY: demo test bench clean

$(VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_FLAGS) -e .
	touch $@

$(TEST_VENV)/.stamp: pyproject.toml
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/pip install $(PIP_FLAGS) -e ".[test]"
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

test: $(TEST_VENV)/.stamp
	$(TEST_VENV)/bin/python -m pytest -n 2 tests

bench: $(VENV)/.stamp $(JAX_VENV)/.stamp $(TORCH_VENV)/.stamp
	$(VENV)/bin/python benchmarks/run.py --nabla-python $(VENV)/bin/python \
		--jax-python $(JAX_VENV)/bin/python --torch-python $(TORCH_VENV)/bin/python

clean:
	rm -rf $(VENV) $(TEST_VENV) $(JAX_VENV) $(TORCH_VENV) *.egg-info
