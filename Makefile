# Two commands do all set-up: `make run` serves the app, `make test` runs everything CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium
NGINX ?= /usr/sbin/nginx
WRK ?= /usr/bin/wrk

.PHONY: run test bench load faults lint browser nginx clean locale messages torch-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed-run

# The Korean catalogues: compiled from their .po sources (app/i18n.py), never committed.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard app/locale/*/LC_MESSAGES/*.po))
locale: $(CATALOGUES)
%.mo: %.po | $(VENV)/.installed-run
	$(BIN)/pybabel -q compile -i $< -o $@

# `make messages`: extract every marked string again and add the new ones to each .po
messages: $(VENV)/.installed-run
	for domain in pages app; do \
	  $(BIN)/pybabel -q extract -F app/locale/$$domain.cfg -k N_ --no-location --sort-output \
	    -o app/locale/$$domain.pot . && \
	  $(BIN)/pybabel -q update -D $$domain -i app/locale/$$domain.pot -d app/locale \
	    --no-fuzzy-matching --ignore-obsolete && rm app/locale/$$domain.pot; \
	done

# `make run PORT=8011` (or HOST=0.0.0.0) serves elsewhere; CONVSCOPE_PORT works too.
run: $(VENV)/.installed-run $(CATALOGUES)
	$(BIN)/convscope serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

# $(call apt-install,PROGRAM,PACKAGE,VARIABLE,WHO): install Debian's PACKAGE with apt-get
# when PROGRAM is missing (as root, or with sudo); elsewhere say which VARIABLE to set.
define apt-install
	@if [ ! -x "$(1)" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing $(2) for $(4) (apt-get)..."; \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "No $(2) at $(1), needed by $(4) (set $(3)=... to use another)."; exit 1; \
	  fi; \
	fi
endef

# The browser tests drive Debian's Chromium (Playwright's own download cannot work offline).
browser:
	$(call apt-install,$(CHROMIUM),chromium,CHROMIUM,the browser tests)

# The proxy tests (tests/deploy/test_nginx.py) put Debian's nginx in front of the app.
nginx:
	$(call apt-install,$(NGINX),nginx,NGINX,the proxy tests)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/kubernetes-validate --strict --quiet deploy/k8s/*.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml

test: lint browser nginx $(CATALOGUES)
	CONVSCOPE_CHROMIUM=$(CHROMIUM) CONVSCOPE_NGINX=$(NGINX) $(BIN)/python -m pytest

bench: $(VENV)/.installed-test browser $(CATALOGUES)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/api.py
	$(BIN)/python bench/web.py
	CONVSCOPE_CHROMIUM=$(CHROMIUM) $(BIN)/python bench/playback.py
	CONVSCOPE_CHROMIUM=$(CHROMIUM) $(BIN)/python bench/controls.py
	$(BIN)/python bench/network.py

# Load and faults on loopback (README, "Running in production"): a few minutes each.
load: $(VENV)/.installed-test $(CATALOGUES)
	$(call apt-install,$(WRK),wrk,WRK,the load test)
	$(BIN)/python bench/load.py

faults: $(VENV)/.installed-test nginx $(CATALOGUES)
	$(BIN)/python bench/faults.py
	$(BIN)/python bench/costs.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis screenshots

# The PyTorch scripts (?format=torch) against the engine: needs a Python with torch, which CI
# does not install (bench/code_scripts.py says why): make torch-check TORCH_PYTHON=/path/python
torch-check: $(VENV)/.installed-test $(CATALOGUES)
	CONVSCOPE_TORCH_PYTHON=$(TORCH_PYTHON) $(BIN)/python bench/code_scripts.py --torch
