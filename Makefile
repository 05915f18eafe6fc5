# mmkd: `make demo` runs the main job, `make test` the test suite. Both install first.
PYTHON := .venv/bin/python
STAMP := .venv/.mmkd-installed
# the committed records to compare the demo with: those of the machine you run on (docs/results.md, "The demo")
RESULTS ?= benchmarks/results

.PHONY: install data demo benchmark lint test test-all clean

install:
	@bash tools/install.sh

data: install
	@$(PYTHON) tools/dataset_converters/neon_trees.py
	@$(PYTHON) tools/dataset_converters/synthetic_shapes.py

# the seed-0 baseline and sigmoid-KD students on NEON trained anew beside each other, distilled from the committed
# teacher, COCO metrics, each checked against its committed record (8.5 minutes from a fresh clone on 2 cores)
demo: data
	@$(PYTHON) tools/benchmark.py --set quick --jobs 2 --retrain --results $(RESULTS) --out work_dirs/demo

# the accuracy benchmark (default set; docs/results.md gives its time); with the committed records it only reports
benchmark: data
	@$(PYTHON) tools/benchmark.py --set default --jobs 2 --out work_dirs/benchmark

lint: install
	@.venv/bin/ruff check .

# The CI suite (under 15 minutes on 2 cores): lint, then the tests; `make test-all` adds the slow end-to-end runs.
test: lint
	@$(PYTHON) -m pytest tests -m "not slow"

test-all: install
	@$(PYTHON) -m pytest tests

clean:
	rm -rf work_dirs .pytest_cache
