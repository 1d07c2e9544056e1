# Two commands for a fresh machine: `make run` and `make test`. Both create the venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXAMPLE ?= workloads/ci_build.yaml

.PHONY: run test lint golden bench sanitize fuzz clean

# An editable install is not byte-compiled; a wheel install is. Compile, so start-up is what
# users get even where PYTHONDONTWRITEBYTECODE is set. (Comments stay outside recipes: make
# echoes recipe lines, comments included.)
$(STAMP): pyproject.toml setup.py $(wildcard src/serialscale/accel/csrc/*.c src/serialscale/accel/csrc/*.h)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q src/serialscale
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/serialscale analyze $(EXAMPLE)

# The suite runs twice: with the compiled kernels and tracer, then with the pure-Python twins
# (SERIALSCALE_PURE_PYTHON=1, the configuration of an install without a C compiler). The
# tests marked slow (large inputs, many subprocesses) run in the first pass only, and so do
# those marked one_pass (they reach no kernel, tracer or process: the second pass would
# repeat them exactly; tests/conftest.py fails one that does reach any).
test: $(STAMP)
	$(BIN)/python -m pytest -n auto
	SERIALSCALE_PURE_PYTHON=1 $(BIN)/python -m pytest -n auto -m "not slow and not one_pass"
	$(BIN)/ruff check src tests benchmarks workloads fuzz
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks workloads fuzz
	$(BIN)/ruff format --check src tests benchmarks fuzz
	$(BIN)/mypy

# Rewrite the golden files of the renderers after an intended change of their output.
golden: $(STAMP)
	SERIALSCALE_UPDATE_GOLDEN=1 $(BIN)/python -m pytest tests/test_render.py tests/test_export.py

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m compileall -q src/serialscale
	$(BIN)/python benchmarks/run.py

# The test suite against the C kernels and tracer built with AddressSanitizer and
# UndefinedBehaviorSanitizer (any report aborts the run). The build goes into a copy of the
# tracked files under build/sanitize, so the venv's own kernels are left alone; the copy's
# src folder comes first on sys.path (PYTHONPATH), so its sanitized extensions are the ones the tests load.
# PYTHONMALLOC=malloc: Python objects and buffers get their own malloc blocks, which ASan
# guards (pymalloc arenas would hide overruns).
SAN_DIR := build/sanitize
SAN_TESTS ?=  # a subset of the suite, e.g. SAN_TESTS="tests/test_kernels.py"; empty: all
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1
# Then UndefinedBehaviorSanitizer alone, with glibc's malloc (ASan's takes no tuning, so the
# kernels that make memory ready do nothing under it): their real path, checked.
UBSAN_DIR := build/ubsan
UBSAN_FLAGS := -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1
UBSAN_TESTS ?= tests/test_trace_memory.py
sanitize: $(STAMP)
	$(BIN)/python -m pip install --quiet "setuptools>=77"
	rm -rf $(SAN_DIR) && mkdir -p $(SAN_DIR)
	git ls-files -z | xargs -0 cp --parents -t $(SAN_DIR)
	cd $(SAN_DIR) && CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		$(CURDIR)/$(BIN)/python setup.py -q build_ext --inplace 2>&1 | grep -v "^running\|warning: " || true
	test -n "$$(ls $(SAN_DIR)/src/serialscale/accel/_kernels*.so)" && test -n "$$(ls $(SAN_DIR)/src/serialscale/accel/_tape*.so)" \
		&& test -n "$$(ls $(SAN_DIR)/src/serialscale/accel/_scoped*.so)"
	cd $(SAN_DIR) && LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
		PYTHONMALLOC=malloc ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		PYTHONPATH=$(CURDIR)/$(SAN_DIR)/src SERIALSCALE_EXPECT_SANITIZED=1 $(CURDIR)/$(BIN)/python -m pytest -p no:cacheprovider $(SAN_TESTS)
	rm -rf $(UBSAN_DIR) && mkdir -p $(UBSAN_DIR)
	git ls-files -z | xargs -0 cp --parents -t $(UBSAN_DIR)
	cd $(UBSAN_DIR) && CFLAGS="$(UBSAN_FLAGS)" LDFLAGS="-fsanitize=undefined" \
		$(CURDIR)/$(BIN)/python setup.py -q build_ext --inplace 2>&1 | grep -v "^running\|warning: " || true
	cd $(UBSAN_DIR) && LD_PRELOAD="$$(gcc -print-file-name=libubsan.so)" UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		PYTHONPATH=$(CURDIR)/$(UBSAN_DIR)/src $(CURDIR)/$(BIN)/python -m pytest -p no:cacheprovider $(UBSAN_TESTS)

# Coverage-guided fuzzing of the loaders and the report reader (atheris; not part of CI).
# FUZZ_TIME seconds; findings land in build/fuzz/ as crash-* files: turn each into a case of
# tests/test_fuzz_findings.py.
FUZZ_TIME ?= 600
fuzz: $(STAMP)
	$(BIN)/python -m pip install --quiet atheris
	mkdir -p build/fuzz/corpus && cp fuzz/seeds/* build/fuzz/corpus/
	$(BIN)/python fuzz/fuzz_loaders.py -max_total_time=$(FUZZ_TIME) -rss_limit_mb=4000 \
		-artifact_prefix=build/fuzz/ build/fuzz/corpus

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
