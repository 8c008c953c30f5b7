# Every target creates .venv and installs the project (editable, with the dev extra) when needed.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
ENV     ?= mpe_spread
SEED    ?= 0
SEEDS   ?= 1
ALGO    ?= dom2
REWEIGHT ?=

.PHONY: install test test-fast lint train data bench experiments fair clean

# uv installs what pip would (the same versions, checked with `pip freeze`) in a fraction of the
# time: make test's install took 87 s with pip and 48 s with uv on this 2-core machine
# (2026-12-02), most of the rest being BYTECODE below. pip is the fallback where uv cannot be
# installed. uv does not read pip's configuration: a local wheel directory is passed on from
# PIP_FIND_LINKS, and UV_EXTRA_INDEX_URL takes the place of PIP_EXTRA_INDEX_URL.
UV_PIP  = $(BIN)/uv pip install -q --python $(BIN)/python $(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS))
# --no-compile: pip's bytecode compilation of everything installed (torch, scipy, pandas, ...) was
# most of pip's install time (uv compiles none by default).
PIP_INSTALL = $(BIN)/python -m pip install -q --no-compile
INSTALL = if test -x $(BIN)/uv; then $(UV_PIP) $(1); else $(PIP_INSTALL) $(1); fi
# $(call) splits its arguments at commas, so requirements that hold one are named by variables.
DEV_REQ  := -e '.[dev]'
TEST_REQ := -e '.[dev,bench]'
# BYTECODE compiles only what a run imports, once, even where PYTHONDONTWRITEBYTECODE is set (it
# would make every new process, and the tests start many, compile jax, flax and brax again).
# distrax and matplotlib are imported where they are used, not by a module's import, so they are
# named.
BYTECODE = PYTHONDONTWRITEBYTECODE= $(BIN)/python -W ignore -c 'import importlib, pkgutil, dom2_jax; \
	[importlib.import_module(m.name) for m in pkgutil.walk_packages(dom2_jax.__path__, "dom2_jax.")]; \
	import distrax, matplotlib.pyplot'
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q 'uv>=0.5,<1' || $(BIN)/python -m pip install -q --upgrade pip
	$(call INSTALL,$(DEV_REQ))
	$(BYTECODE)
	touch $(STAMP)

# The tests also need the bench extra: PyTorch, for the equivalence test of the DOM2 update with
# the PyTorch reference (tests/bench), which `make test` must run, not skip. TORCH pins PyTorch's
# CPU build, taken from a local wheel where there is one (this machine's /opt/wheels, named by
# PIP_FIND_LINKS); elsewhere add PyTorch's CPU index
# (UV_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu, or PIP_EXTRA_INDEX_URL without uv)
# or pass TORCH=torch for the default (CUDA) build.
TORCH ?= torch==2.13.0
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -c 'import torch' 2>/dev/null || $(call INSTALL,'$(TORCH)')
	$(call INSTALL,$(TEST_REQ))
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -c 'import torch, pytest, xdist'
	touch $(TEST_STAMP)

install: $(STAMP)

# One pytest worker per core (pytest-xdist; TEST_WORKERS=1 for one process); a test file stays on
# one worker, so its module fixtures (shared compiled programs) are built once.
# DOM2_JAX_REQUIRE_TORCH turns a missing torch into an error, not a skipped equivalence test.
test: TEST_WORKERS ?= auto
test: $(TEST_STAMP)
	DOM2_JAX_REQUIRE_TORCH=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# Everything but the tests marked `slow` (pyproject.toml lists what they are); stops at the first failure.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks experiments
	$(BIN)/ruff format --check src tests benchmarks experiments

train: LEVEL ?= expert
train: PRESET ?= cpu
train: $(STAMP)
	$(BIN)/python -m dom2_jax train --algo $(ALGO) --env $(ENV) --level $(LEVEL) \
		--preset $(PRESET) $(if $(REWEIGHT),--reweight $(REWEIGHT)) --seeds $(SEEDS) --seed $(SEED)

data: LEVEL ?= all
data: PRESET ?= paper
data: $(STAMP)
	$(BIN)/python -m dom2_jax data --env $(ENV) --level $(LEVEL) --seed $(SEED) --preset $(PRESET)

# The paper's experiments (experiments/README.md): PRESET=cpu is the fair protocol at CPU scale
# (many hours: run it in pieces), PRESET=paper the full scale for a GPU. Resumable: a rerun skips
# the finished cells, committed under experiments/results/. WORKERS processes train side by side.
experiments: PRESET ?= cpu
experiments: WORKERS ?= 2
experiments: $(STAMP)
	$(BIN)/python -m experiments.run_all --preset $(PRESET) --workers $(WORKERS)
	$(if $(filter cpu,$(PRESET)),$(BIN)/python -m experiments.summary --readme README.md)

# The fair protocol (issue 13): one budget and one discount per env, 5 seeds, learning curves,
# CIs, DOM2 with 1 and 50 evaluation candidates; then DOM2's eta sweep. Resumable cell by cell,
# finished cells committed under experiments/results/fair/cells/.
fair: $(STAMP)
	$(BIN)/python -m experiments.fair --preset fair
	$(BIN)/python -m experiments.eta_sweep --preset fair

# The CPU suite (benchmarks/run_all.py; ~15 min on 2 idle cores, ~25 min when other jobs load
# them) rewrites benchmarks/RESULTS.md and
# benchmarks/plots/. PyTorch (the reference) is installed first when missing: TORCH pins the CPU
# build; on a GPU machine pass e.g. TORCH=torch to get pip's default (CUDA) build.
bench: $(TEST_STAMP)
	$(BIN)/python -m benchmarks.run_all --write benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/*.egg-info
