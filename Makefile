# mmkd: `make demo` runs the main job, `make test` the test suite. Both install first.
PYTHON := .venv/bin/python
STAMP := .venv/.mmkd-installed

.PHONY: install data demo benchmark lint test test-all clean

install:
	@bash tools/install.sh

data: install
	@$(PYTHON) tools/dataset_converters/neon_trees.py
	@$(PYTHON) tools/dataset_converters/synthetic_shapes.py

# teacher, baseline student and response-distilled (sigmoid KD) student on NEON, COCO metrics (14-17 minutes on 2 cores)
demo: data
	@$(PYTHON) tools/benchmark.py --set quick --out work_dirs/demo

# the accuracy benchmark (default set: about an hour on 2 cores; see docs/results.md)
benchmark: data
	@$(PYTHON) tools/benchmark.py --set default --out work_dirs/benchmark

lint: install
	@.venv/bin/ruff check .

# The CI suite (under 15 minutes on 2 cores): lint, then the tests; `make test-all` adds the slow end-to-end runs.
test: lint
	@$(PYTHON) -m pytest tests -m "not slow"

test-all: install
	@$(PYTHON) -m pytest tests

clean:
	rm -rf work_dirs .pytest_cache
