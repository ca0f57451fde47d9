# The companion's commands. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SWEEP_VENV ?= .venv-sweep
SWEEP_STAMP := $(SWEEP_VENV)/.installed
BENCH_VENV ?= .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
SWEEP ?=
SWEEP_PROFILE ?= default
CLUSTER ?=
CORES ?= all
NB ?=
PROFILE ?= default
PARAMS ?=
PIPELINE := $(PY) -m superposition.book.pipeline
MATHJAX_VERSION := $(shell sed -n 's/^MATHJAX_VERSION = "\(.*\)"$$/\1/p' src/superposition/book/pipeline.py)
MATHJAX := $(VENV)/mathjax/node_modules/mathjax/es5/tex-mml-chtml.js
export PYTHONHASHSEED := 0
export SUPERPOSITION_QUIET ?= 0

.PHONY: help env sweep-env bench-env sweep notebooks book run test test-fast benchmark params clean browser kernel-check replicates

help: ## list the targets
	@echo "Targets (run from the repository root):"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo ""
	@echo "Examples:"
	@echo "  make book                                   # the whole book with default parameters"
	@echo "  make run NB=compressed_sensing PROFILE=smoke"
	@echo "  make run NB=compressed_sensing PARAMS='-p n_trials 40 -p seed 1'"
	@echo "  make run NB=compressed_sensing PARAMS='-f my_params.yaml'"
	@echo "  make params NB=compressed_sensing           # a notebook's parameters and profiles"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[book,test]" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(PY) -c "import superposition, torch, papermill, jupytext" 
	@touch $(STAMP)

$(MATHJAX): ## MathJax from the npm registry, served with the book so that equations render offline
	npm install --prefix $(VENV)/mathjax --no-audit --no-fund --no-save --loglevel=error mathjax@$(MATHJAX_VERSION)
	@test -f $(MATHJAX)

$(SWEEP_STAMP): constraints-sweep.txt
	@test -x $(SWEEP_VENV)/bin/python || python3 -m venv $(SWEEP_VENV)
	$(SWEEP_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints-sweep.txt snakemake snakemake-executor-plugin-slurm 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(SWEEP_VENV)/bin/snakemake --version >/dev/null
	@touch $(SWEEP_STAMP)

sweep-env: $(SWEEP_STAMP) ## the sweep engine (Snakemake 9 and its SLURM executor) in its own pinned environment, .venv-sweep

$(BENCH_STAMP): pyproject.toml constraints.txt constraints-bench.txt
	@test -x $(BENCH_VENV)/bin/python || python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e . 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r constraints-bench.txt 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(BENCH_VENV)/bin/python -c "import importlib.util, superposition, sae_lens, torch; assert importlib.util.find_spec('overcomplete')"
	@touch $(BENCH_STAMP)

bench-env: $(BENCH_STAMP) ## the SAE libraries the peer benchmark compares with (overcomplete, SAELens) in their own pinned environment, .venv-bench

env: $(STAMP) $(MATHJAX) $(SWEEP_STAMP) ## create the pinned environments .venv and .venv-sweep (if missing or outdated)

notebooks: env ## execute every notebook with its default parameters (skips up-to-date ones)
	$(PIPELINE) run-all

book: notebooks ## install, execute every notebook, render the HTML book into _build/html
	$(PIPELINE) build-book

run: env ## re-execute one notebook: NB=<name> [PROFILE=smoke|paper] [PARAMS='-p name value ...'], then rebuild the book (chapters never run get a placeholder page)
	@test -n "$(NB)" || { echo "error: give the notebook, e.g. make run NB=compressed_sensing"; exit 2; }
	$(PIPELINE) run $(NB) --profile $(PROFILE) --force $(PARAMS)
	$(PIPELINE) build-book --allow-missing

sweep: env ## run a parameter sweep: NB=<name> SWEEP=<sweep> [SWEEP_PROFILE=smoke|paper] [CLUSTER=slurm] [CORES=all]; unchanged points are skipped
	$(PY) -m superposition.book.sweeps run $(NB) $(SWEEP) --profile $(SWEEP_PROFILE) --cores $(CORES) $(if $(CLUSTER),--cluster $(CLUSTER))

params: env ## list the parameters and profiles of NB=<name>
	$(PIPELINE) params $(NB)

test: env browser ## run the whole test suite (unit tests, notebook execution, registry, strict book build, pages in a browser)
	$(PY) -m pytest

kernel-check: env ## run the notebooks (NB=<name>, default all) at their defaults on another CPU kernel path and compare with the registry
	$(PY) -m superposition.book.kernel_check $(if $(NB),--notebooks $(NB))

replicates: env ## maintainers: replicate runs of NB=<name> (RUNS=8 in all) and the trained tolerances they give, into book/
	@test -n "$(NB)" || { echo "error: give the notebook, e.g. make replicates NB=toy_alignment"; exit 2; }
	$(PY) -m superposition.book.replicates run $(NB) --runs $(or $(RUNS),8)
	$(PY) -m superposition.book.replicates tolerances $(NB)

test-fast: env ## the quick tier while working on the library: unit tests and fast paths against references (no notebook, no browser)
	$(PY) -m pytest -m "not notebook and not browser"

browser: ## install Debian's chromium for the page tests where it is missing (as root, or with sudo)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }; \
	  else sudo apt-get install -y --no-install-recommends chromium; fi; }

benchmark: env bench-env ## time the batched solvers against the tools a user would otherwise pick (SAE peers in .venv-bench)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[bench]" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
	$(PY) benchmarks/recovery_vs_linprog.py
	$(PY) benchmarks/alignment_metrics.py
	$(PY) benchmarks/sae_training.py
	$(BENCH_VENV)/bin/python benchmarks/sae_peers.py
	$(PY) benchmarks/encoder_training.py
	$(PY) benchmarks/voxel_ridge.py
	$(PY) benchmarks/word_analogies.py

clean: ## remove built outputs (keeps the environment)
	rm -rf _build
