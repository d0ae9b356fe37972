# The assistant's front door. `make run` and `make test` set up whatever is missing
# (virtual environment, knowledge database, trained model, web widget bundle), then
# start the assistant or lint and run every test. Every step is
# skipped when its inputs did not change.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
MODEL     := models/assistant.tar.gz
KB_DB     := var/knowledge.db
WEBCHAT   := var/webchat/node_modules/rasa-webchat/lib/index.js
RUFF      ?= $(VENV)/bin/ruff
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false

RASA_DATA   := $(shell find data -name '*.yml')
CONTENT     := $(wildcard knowledge/content/*.yml)
NLU_CODE    := $(wildcard nlu/*.py) $(wildcard nlu/*.yml)

.PHONY: help install run test lint format train evaluate validate knowledge clean distclean chromium

help:
	@echo "make run       set up what is missing, then start the assistant (Ctrl-C stops it)"
	@echo "make test      set up what is missing, then lint and run every test"
	@echo "make lint      ruff check (settings in pyproject.toml)"
	@echo "make install   virtual environment with the exact versions of requirements.lock"
	@echo "make train     train the model if its data or configuration changed"
	@echo "make evaluate  train if needed, measure the NLU on the held-out set (reports/), compare with the previous model"
	@echo "make validate  check the training data, the domain, the knowledge content and their consistency"
	@echo "make inbox     export the messages to review into var/inbox.yml; make accept-inbox merges them"
	@echo "make deploy-model  load the current model into the running assistant (docs/maintainers.md)"
	@echo "make run-prod  the production profile on this machine, run by supervisord (docs/deploy.md); make test-prod tests it"
	@echo "make clean     remove databases, models and reports (keeps .venv)"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml tools/find-python310
	@PYTHON310=$$(tools/find-python310) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
		rm -rf $(VENV) && $$PYTHON310 -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

knowledge: $(KB_DB)
$(KB_DB): $(STAMP) $(CONTENT) $(wildcard knowledge/translations/*/*.yml) $(wildcard knowledge/*.py) knowledge/style_rules.yml
	$(PY) -m knowledge check
	$(PY) -m knowledge load

train: $(MODEL)
# A versioned models/assistant-<UTC time>-<inputs hash>.tar.gz, copied to $(MODEL);
# models/registry.json keeps the previous one (retrain/models.py).
$(MODEL): $(STAMP) $(RASA_DATA) domain.yml config.yml $(NLU_CODE)
	$(PY) -m retrain.models train

$(WEBCHAT): bot/webchat/package.json bot/webchat/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the web widget: apt-get install npm"; exit 1; }
	@mkdir -p var/webchat
	cp bot/webchat/package.json bot/webchat/package-lock.json var/webchat/
	npm ci --prefix var/webchat --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium for the browser test (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

run: $(STAMP) $(KB_DB) $(MODEL) $(WEBCHAT)
	$(PY) -m bot.launcher

# Lint first: it takes a second, the tests take minutes.
test: lint $(STAMP) $(KB_DB) $(MODEL) $(WEBCHAT) chromium
	$(PY) -m pytest --ignore=tests/prod

# ruff is pinned in requirements.lock; its settings are in pyproject.toml. `make format`
# rewrites the files the way `make lint` wants them.
lint: $(STAMP)
	$(RUFF) check .
	$(RUFF) format --check .

format: $(STAMP)
	$(RUFF) check --fix .
	$(RUFF) format .

# retrain.evaluate's figures, then the regression gate against the deployed (else previous)
# model, or BASELINE=models/<file>.tar.gz (retrain/regression.py).
evaluate: $(MODEL)
	$(PY) -m retrain.regression --model $(MODEL) --out reports $(if $(BASELINE),--baseline $(BASELINE))

validate: $(STAMP)
	$(VENV)/bin/rasa data validate --fail-on-warnings
	$(PY) -m knowledge check
	$(PY) -m retrain.consistency

clean:
	rm -rf var models reports test-artifacts .pytest_cache

# Targets of other workflows (benchmark, retraining, production) live in mk/.
include $(wildcard mk/*.mk)

distclean: clean
	rm -rf $(VENV)
