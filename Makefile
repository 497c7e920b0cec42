# The two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.camnet-run
TEST_STAMP := $(VENV)/.camnet-test

.PHONY: run test lint typecheck unit bench clean media-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
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

unit: $(TEST_STAMP) media-tools
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck unit

bench: $(TEST_STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
