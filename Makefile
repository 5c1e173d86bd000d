# Two set-up commands for a fresh machine (Python >= 3.11, git, make, terraform >= 1.9 on PATH):
#   make demo   install mlopsgen, render examples/full.yml into ./demo and validate it offline
#   make test   install test dependencies and run the whole test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
# checkov pins a fork of python-hcl2 that replaces the real one, so it lives in its own venv
TOOLS  ?= .venv-tools
# kfp needs protobuf<7, the generator protobuf>=7.35: the ML workload tests (tests/ml) run the
# rendered repo's commands with this venv's python (the client's pins, tests/ml/requirements.txt)
ML     ?= .venv-ml
# Airflow (DAG loading tests, tests/orchestrators) pins its own world: a venv from exact pins
AIRFLOW ?= .venv-airflow
DEMO   ?= demo
PYTEST_ARGS ?= -n 2

.PHONY: demo test test-fast lint docs dist install install-test chromium clean

$(VENV)/.installed: pyproject.toml generator/__init__.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

$(ML)/.installed: tests/ml/requirements.txt
	$(PYTHON) -m venv $(ML)
	$(ML)/bin/pip install -q -r tests/ml/requirements.txt
	touch $@

$(AIRFLOW)/.installed: tests/orchestrators/requirements-airflow.txt
	$(PYTHON) -m venv $(AIRFLOW)
	$(AIRFLOW)/bin/pip install -q --no-deps -r tests/orchestrators/requirements-airflow.txt
	touch $@

$(TOOLS)/.installed:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q checkov
	mkdir -p $(TOOLS)/shims && ln -sf ../bin/checkov $(TOOLS)/shims/checkov
	touch $@

install: $(VENV)/.installed

demo: install
	rm -rf $(DEMO)
	$(VENV)/bin/mlopsgen new $(DEMO) --data-file examples/full.yml --vcs-ref HEAD

# the venvs are independent: build them in parallel
install-test:
	$(MAKE) -j 4 $(VENV)/.test-installed $(ML)/.installed $(TOOLS)/.installed $(AIRFLOW)/.installed

# the fleet status page is loaded in headless Chromium (tests/test_fleet_status.py): Debian's
# package, installed when missing (as root, or with password-less sudo); without it that test
# skips, saying so
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo "sudo -n" ); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$SUDO apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $$SUDO apt-get update -q >/dev/null && $$SUDO apt-get install -y -q chromium >/dev/null; } || \
	  echo "chromium could not be installed: the fleet status page test will skip"; }

test: install-test chromium
	PATH="$(CURDIR)/$(TOOLS)/shims:$$PATH" MLOPSGEN_ML_PYTHON="$(CURDIR)/$(ML)/bin/python" \
	  MLOPSGEN_AIRFLOW_PYTHON="$(CURDIR)/$(AIRFLOW)/bin/python" $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# the fast lane while working: no terraform, no many-variant renders, no update chains, no ML or
# Airflow venvs (CI runs `make test`, which runs everything)
test-fast: $(VENV)/.test-installed
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS) \
	  -m "not terraform and not slow and not upgrade and not ml and not airflow"

# the static checks test_quality.py runs: ruff (complexity bound included) and mypy --strict
lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check generator tests tools benchmarks
	$(VENV)/bin/mypy

# the wheel (and sdist) users install: it carries the template and records the canonical template
# URL ([tool.mlopsgen] template-url, or MLOPSGEN_TEMPLATE_URL) and the tag v<version>
dist: $(VENV)/.installed
	rm -rf dist build
	$(VENV)/bin/pip wheel -q --no-deps -w dist .
	rm -rf build

# regenerate the reference part of terraform/modules/*/README.md (the tests run it with --check)
docs: install
	$(VENV)/bin/python tools/module_docs.py

clean:
	rm -rf $(VENV) $(TOOLS) $(ML) $(AIRFLOW) $(DEMO) dist build
