# Two set-up commands for a fresh machine (Python >= 3.11, git, terraform >= 1.9 on PATH):
#   make demo   install mlopsgen, render examples/full.yml into ./demo and validate it offline
#   make test   install test dependencies and run the whole test suite (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
# checkov pins a fork of python-hcl2 that replaces the real one, so it lives in its own venv
TOOLS  ?= .venv-tools
DEMO   ?= demo

.PHONY: demo test install install-test clean

$(VENV)/bin/mlopsgen: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -e .
	touch $@

install: $(VENV)/bin/mlopsgen

demo: install
	rm -rf $(DEMO)
	$(VENV)/bin/mlopsgen new $(DEMO) --data-file examples/full.yml --vcs-ref HEAD

install-test: install
	$(VENV)/bin/pip install -q -e '.[test,ml]'
	test -x $(TOOLS)/bin/checkov || ($(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/pip install -q checkov)
	mkdir -p $(TOOLS)/shims && ln -sf ../bin/checkov $(TOOLS)/shims/checkov

test: install-test
	PATH="$(CURDIR)/$(TOOLS)/shims:$$PATH" $(VENV)/bin/python -m pytest -n 2

clean:
	rm -rf $(VENV) $(TOOLS) $(DEMO)
