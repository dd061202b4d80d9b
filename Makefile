# fila: `make run` runs the whole system locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-fila
# checkov (make test checks deploy/kubernetes with it) pins packages fila pins differently: its own venv.
CHECKOV := $(VENV)/tools/checkov/bin/checkov

.PHONY: run dev env test lint bench compose-check generated clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt requirements/checkov.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fila needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[web,run,dev]'
	test -x $(CHECKOV) || $(PYTHON) -m venv $(VENV)/tools/checkov
	$(VENV)/tools/checkov/bin/python -m pip install --quiet -r requirements/checkov.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/fila run

# make run for the lab: the web reloads when lab/ (or web/, shared/) changes, lab/worker.py runs.
dev: $(STAMP)
	$(BIN)/fila run --dev

# A .env for docker compose with every password made up at random (never over an existing one).
env: $(STAMP)
	$(BIN)/fila init

test: $(STAMP)
	sh scripts/test-packages.sh
	@if [ "$$FILA_CONTAINER_TESTS" = skip ]; then echo "!!! FILA_CONTAINER_TESTS=skip: the container tests (compose, Swarm) will NOT run !!!"; fi
	sh scripts/test.sh $(BIN)/python $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile.web Dockerfile.worker
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	$(BIN)/shellcheck deploy/redis/*.sh scripts/*.sh
	$(BIN)/python scripts/generate.py --check

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

compose-check: $(STAMP)
	sh scripts/test-packages.sh
	$(BIN)/python -m pytest tests/test_compose.py tests/containers

# Rewrite what is generated from its one source (the stack file, the Kubernetes ConfigMaps...).
generated: $(STAMP)
	$(BIN)/python scripts/generate.py

clean:
	rm -rf $(VENV) var .pytest_cache
