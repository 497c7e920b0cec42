# The two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.camnet-run
TEST_STAMP := $(VENV)/.camnet-test

.PHONY: run test lint typecheck unit bench clean media-tools lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Dependencies come from the lock files, every file checked against its hash; camnet
# itself is then installed without resolving anything again (--no-deps).
$(RUN_STAMP): pyproject.toml requirements/run.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/run.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(TEST_STAMP): pyproject.toml requirements/test.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.lock
	$(BIN)/python -m pip install --quiet --no-deps -e '.[test]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/camnet serve $(ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# The RTSP tests use Debian's ffmpeg/ffprobe as real clients. Installed when missing and
# running as root; otherwise those tests skip with the reason (under CI=true they fail).
media-tools:
	@command -v ffprobe >/dev/null && command -v ffmpeg >/dev/null || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y --no-install-recommends ffmpeg >/dev/null || \
	      (apt-get update >/dev/null && apt-get install -y --no-install-recommends ffmpeg >/dev/null); \
	  else echo "make: ffmpeg missing and cannot be installed here; RTSP tests will skip"; fi
	@# The dashboard's browser tests drive Debian's Chromium (never a downloaded browser).
	@test -x /usr/bin/chromium || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y --no-install-recommends chromium >/dev/null || \
	      (apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null); \
	  else echo "make: chromium missing and cannot be installed here; dashboard tests will skip"; fi

# The suite runs on PYTEST_WORKERS processes (pytest-xdist), whole modules to each, the
# slowest handed out first (tests/conftest.py); PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= 2
unit: $(TEST_STAMP) media-tools
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

test: lint typecheck unit

bench: $(TEST_STAMP)
	$(BIN)/python bench/run_all.py

# Regenerate both lock files with the newest versions pyproject.toml allows (then run
# `make test` before committing them). pip-tools lives in its own venv, not in .venv.
LOCK_VENV := .lock-venv
COMPILE := $(LOCK_VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links --upgrade
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || \
	  ($(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/pip install --quiet pip-tools)
	$(COMPILE) -o requirements/run.lock pyproject.toml
	$(COMPILE) --extra test -o requirements/test.lock pyproject.toml

clean:
	rm -rf $(VENV) $(LOCK_VENV) .mypy_cache .pytest_cache .ruff_cache
