# One command each on a fresh machine: the venv is created and the project installed on demand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)

.PHONY: demo test bench lint typecheck clean lock

# constraints.txt pins every package of a known-good install (`make lock` rewrites it): the
# resolver then checks one candidate each instead of backtracking for many minutes.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

demo: $(STAMP)
	$(BIN)/python -m steward.demo

test: $(STAMP)
	command -v chromium >/dev/null 2>&1 || apt-get install -y chromium  # the UI's browser tests (tests/ui)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# Each benchmark runs our code and its peer side by side and prints medians and ratios.
# Peers live in venvs of their own (bench/.venv-mlflow, bench/.venv-peers, bench/.venv-evidently).
bench: $(STAMP)
	bash bench/mlflow_env.sh
	bash bench/peers_env.sh
	mkdir -p bench/results
	$(BIN)/python bench/cli_start.py --json-out bench/results/cli_start.json
	$(BIN)/python bench/tracking.py --json-out bench/results/tracking.json
	$(BIN)/python bench/data.py
	$(BIN)/python bench/profile.py
	$(BIN)/python bench/registry.py --json-out bench/results/registry.json
	$(BIN)/python bench/data_register.py --gb 1
	command -v wrk >/dev/null 2>&1 || apt-get install -y wrk
	$(BIN)/python bench/serving.py --json-out bench/results/serving.json
	bash bench/evidently_env.sh
	$(BIN)/python bench/drift.py --json-out bench/results/drift.json

lint: $(STAMP)
	$(BIN)/ruff check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .steward .pytest_cache

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^steward' > constraints.txt
