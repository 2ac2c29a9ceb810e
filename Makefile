# Two entry points for a fresh machine: `make demo` and `make test` (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)

# All runtime state lives under one folder.
export INCLUSION_DATA ?= $(CURDIR)/data
export AIRFLOW_HOME := $(INCLUSION_DATA)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
# plugins/partner_deposits.py: the « Dépôts des partenaires » view of the Airflow UI.
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM := 4
# The territory's time zone (territory.toml), repeated because make cannot read TOML;
# tests/test_settings.py checks that they agree.
export AIRFLOW__CORE__DEFAULT_TIMEZONE := Europe/Paris
# DAGs are active as soon as they reach the metadata database, whichever command puts them
# there first (`airflow dags test` in `make pipeline`, the DAG processor in `make airflow`).
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION := False
export GX_ANALYTICS_ENABLED := False
export NO_PROXY := *
PORT ?= 8000
AIRFLOW_PORT ?= 8080

CLUSTER_ARGS ?=

.PHONY: cluster help install demo pipeline serve test test-fast bench bench-latency bench-versus expectations settings-doc lock ledger status rollback airflow airflow-db clean

help:
	@echo "make demo   installe, traite les fichiers d'exemple avec Airflow, construit le site et le sert sur http://127.0.0.1:$(PORT)"
	@echo "make test   installe et lance tous les tests"
	@echo "make test-fast  les tests sans navigateur, ordonnanceur réel, PostgreSQL ni banc d'essai (moins de 2 min)"

$(STAMP): pyproject.toml requirements.lock
	@echo "==> Environnement Python dans $(VENV)"
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv \
	  || { $(PYTHON) -m ensurepip --quiet && $(PYTHON) -m pip install --quiet uv; }
	@$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PYTHON) -r requirements.lock
	@$(VENV)/bin/uv pip install --quiet --python $(PYTHON) --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

demo: install pipeline serve

# One DAG run with `airflow dags test`, then its real outcome: the command may exit 0 when a
# task failed, so pipeline.runstate always reads the run's task states and fails naming them and
# the log. The sample files are complete when dropped: no settle time to wait for.
define dag_test
status=0; INCLUSION_SETTLE_SECONDS=0 $(VENV)/bin/airflow dags test $(1) > "$(INCLUSION_DATA)/$(1).log" 2>&1 || { status=1; tail -40 "$(INCLUSION_DATA)/$(1).log"; }; \
	$(PYTHON) -m pipeline.runstate $(1) --log "$(INCLUSION_DATA)/$(1).log" && exit $$status
endef

pipeline: install
	@echo "==> Remise à zéro du dossier de données $(INCLUSION_DATA)"
	@rm -rf "$(INCLUSION_DATA)"
	@mkdir -p "$(INCLUSION_DATA)"
	@echo "==> Dépôt des fichiers d'exemple des partenaires dans $(INCLUSION_DATA)/inbox"
	@$(PYTHON) -m demo.samples --inbox "$(INCLUSION_DATA)/inbox"
	@echo "==> Base de métadonnées Airflow (SQLite, $(AIRFLOW_HOME))"
	@$(VENV)/bin/airflow db migrate > "$(INCLUSION_DATA)/airflow-migrate.log" 2>&1
	@echo "==> Airflow : DAG reception_fichiers (registre, Great Expectations, entrepôt, rapports)"
	@$(call dag_test,reception_fichiers)
	@$(PYTHON) -m pipeline.cli ledger
	@echo "==> Airflow : DAG publication_site (indicateurs, Pelican, mise en ligne atomique)"
	@$(call dag_test,publication_site)
	@echo "    site construit dans $$(readlink -f "$(INCLUSION_DATA)/site/current")"
	@echo "    journaux Airflow : $(INCLUSION_DATA)/*.log ; rapports des partenaires : $(INCLUSION_DATA)/inbox/*/*.rapport.txt"

serve:
	@echo "==> Site servi sur http://127.0.0.1:$(PORT) (Ctrl-C pour arrêter)"
	@exec $(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory "$(INCLUSION_DATA)/site/current"

test: install
	@echo "==> Tests"
	@$(PYTHON) -m pytest

# Everything but Chromium, the real scheduler, PostgreSQL, the Celery cluster, the benchmark, DAG runs through
# Airflow, the SIGKILL tests and the corpus read twice a row at a time (markers in pyproject.toml), with fewer Hypothesis examples
# (profile "fast", tests/conftest.py); `make test` runs them all.
# INCLUSION_REGENERATE_GOLDEN=1 make test-fast rewrites tests/golden/ from this build.
FAST_MARKERS := not browser and not scheduler and not postgres and not bench and not airflow \
  and not crash and not heavy and not cluster
test-fast: install
	@echo "==> Tests rapides (-m \"$(FAST_MARKERS)\")"
	@HYPOTHESIS_PROFILE=fast $(PYTHON) -m pytest -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

# National-scale benchmark (30,000 venues, 2,000,000 passes... through Airflow): prints a table
# and writes $(INCLUSION_DATA)/bench/national.json. SCALE=0.1 for a tenth of it.
SCALE ?= 1
bench: install
	@$(PYTHON) -m bench.national --scale $(SCALE)

# Partner latency under the real scheduler: 20 small files dropped 30 s apart, time from each
# drop to its report (docs/performance.md); ~13 min. DROPS=5 SPACING=20 for a quick look.
DROPS ?= 20
SPACING ?= 30
bench-latency: install
	@$(PYTHON) -m bench.latency --drops $(DROPS) --spacing $(SPACING)

# End to end against an earlier commit (issue 18: at most half of 65b392f) on the same national
# files, runs alternated, both results checked equal (bench/versus.py); ~45 min at SCALE=1.
BASE ?= 65b392f
ROUNDS ?= 2
bench-versus: install
	@$(PYTHON) -m bench.versus --base $(BASE) --scale $(SCALE) --rounds $(ROUNDS)

expectations: install
	@$(PYTHON) -m pipeline.check.suites

# docs/settings.md from the table in pipeline/settings.py (a test fails when it is stale).
settings-doc: install
	@$(PYTHON) -m pipeline.settings --markdown > docs/settings.md

# The warehouse upgraded in place to the schema of this code (Alembic migrations in
# pipeline/load/migrations/versions/), in one transaction; a second run changes nothing.
.PHONY: migrate migration
migrate: install
	@$(PYTHON) -m pipeline.load.migrate

# After a contract change: the migration from the latest one to the contracts' schema, written
# in pipeline/load/migrations/versions/ to be read, completed and committed with the change.
migration: install
	@test -n "$(MESSAGE)" || { echo 'usage : make migration MESSAGE="ce que change la migration"'; exit 2; }
	@$(PYTHON) -m pipeline.load.migrate nouvelle "$(MESSAGE)"

lock:
	uv pip compile --quiet pyproject.toml --extra test --python-version 3.11 -o requirements.lock

ledger: install
	@$(PYTHON) -m pipeline.cli ledger

rollback: install
	@$(PYTHON) -m pipeline.cli rollback

status: install
	@$(PYTHON) -m pipeline.cli status

# The metadata database up to date with the DAGs in it and active, also when an earlier
# `make pipeline` (or an older version of this Makefile) created them paused.
AIRFLOW_DAGS := reception_fichiers publication_site relance_partenaires
airflow-db: install
	@mkdir -p "$(INCLUSION_DATA)/inbox"
	@$(VENV)/bin/airflow db migrate > "$(INCLUSION_DATA)/airflow-migrate.log" 2>&1
	@$(VENV)/bin/airflow dags reserialize > "$(INCLUSION_DATA)/airflow-reserialize.log" 2>&1 \
	  || { tail -20 "$(INCLUSION_DATA)/airflow-reserialize.log"; exit 1; }
	@for dag in $(AIRFLOW_DAGS); do \
	  $(VENV)/bin/airflow dags unpause $$dag >> "$(INCLUSION_DATA)/airflow-reserialize.log" 2>&1 \
	    || { tail -20 "$(INCLUSION_DATA)/airflow-reserialize.log"; exit 1; }; \
	done

# The real Airflow on the same data folder: API server with the UI, scheduler, DAG processor
# and triggerer (airflow standalone), LocalExecutor, both DAGs active. The UI shows times in the
# browser's time zone (Airflow 3 has no server setting for it; see docs/operations.md).
airflow: airflow-db
	@echo "==> Airflow : http://127.0.0.1:$(AIRFLOW_PORT) — utilisateur « admin », mot de passe dans"
	@echo "    $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated (créé au premier démarrage)"
	@echo "    Dépôts des partenaires : $(INCLUSION_DATA)/inbox/<partenaire>/ ; leur suivi dans l'interface :"
	@echo "    menu Parcourir > Dépôts des partenaires (http://127.0.0.1:$(AIRFLOW_PORT)/depots/) ; Ctrl-C pour arrêter."
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" AIRFLOW__API__PORT=$(AIRFLOW_PORT) AIRFLOW__CORE__EXECUTOR=LocalExecutor \
	  AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin \
	  exec $(VENV)/bin/airflow standalone

# Several workers on this machine (issue 19, docs/cluster.md): Redis, a throw-away PostgreSQL 15
# (metadata and warehouse), a local S3 server with the storage areas, the API server, scheduler,
# DAG processor, triggerer and two Celery workers, each with its own working folder; in the
# foreground, Ctrl-C stops everything. CLUSTER_ARGS=--dossier-partage: one shared data folder.
cluster: install
	@exec $(PYTHON) -m ops.cluster lancer $(CLUSTER_ARGS)

clean:
	rm -rf "$(INCLUSION_DATA)" .pytest_cache
