# The two set-up commands of the README: `make demo` and `make test`.
# Both create (once) and reuse the virtual environment .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Never let a run try the network for telemetry.
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export KEDRO_LOGGING_CONFIG := $(CURDIR)/conf/logging.yml

.PHONY: install demo test lint format viz readme docs clean-data notebooks-strip notebooks

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch/torchvision first: pip takes these two from this machine's disk.
	$(BIN)/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: install  ## run the whole study on the embedded demo region
	$(BIN)/kedro run

test: install  ## lint and run the test suite (what CI runs)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check src tests benchmarks tools

format: install
	$(BIN)/ruff format src tests benchmarks tools
	$(BIN)/ruff check --fix src tests benchmarks tools

viz: install
	$(BIN)/kedro viz

clean-data:  ## remove everything the pipelines wrote (keeps the demo region)
	find data -mindepth 2 -not -path 'data/01_raw*' -not -name '.gitkeep' -delete

readme: install  ## refresh the README's demo results from the last run
	$(BIN)/python tools/readme.py

docs: install  ## regenerate the parameter reference and build the docs site (build/docs)
	$(BIN)/python tools/docs.py
	$(BIN)/mkdocs build --strict

notebooks-strip: install  ## remove outputs and execution counts from notebooks/*.ipynb (before a commit)
	$(BIN)/python -m tools.notebooks strip

notebooks: install  ## run every notebook headless on this project's last run (fails on a cell error)
	$(BIN)/python -m tools.notebooks run .
