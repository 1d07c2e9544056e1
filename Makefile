# Two commands for a fresh machine: `make run` and `make test`. Both create the venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXAMPLE ?= workloads/ci_build.yaml

.PHONY: run test lint golden bench clean

$(STAMP): pyproject.toml setup.py $(wildcard serialscale/csrc/*.c serialscale/csrc/*.h)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# An editable install is not byte-compiled; a wheel install is. Compile, so start-up is
	# what users get even where PYTHONDONTWRITEBYTECODE is set.
	$(BIN)/python -m compileall -q serialscale
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/serialscale analyze $(EXAMPLE)

test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/ruff check serialscale tests benchmarks workloads
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check serialscale tests benchmarks workloads
	$(BIN)/ruff format --check serialscale tests benchmarks
	$(BIN)/mypy

# Rewrite the golden files of the renderers after an intended change of their output.
golden: $(STAMP)
	SERIALSCALE_UPDATE_GOLDEN=1 $(BIN)/python -m pytest tests/test_render.py

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m compileall -q serialscale
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
