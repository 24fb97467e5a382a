# fh-analytik – Aufgaben für Entwicklung und Betrieb. `make` ohne Ziel listet sie auf.
SHELL := /bin/bash
.DEFAULT_GOAL := hilfe

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installiert
# Bytecode of the package's own modules, written ahead: an editable install leaves that to the
# first import, which PYTHONDONTWRITEBYTECODE (set on many CI and server machines) forbids, and
# then every process (each CLI call, worker and report kernel) compiles the sources anew
# (about 0,1 s CPU each time). Up-to-date files are skipped; a stale one is recompiled.
BYTECODE = $(BIN)/python -m compileall -q src/analysis
RAW    ?= data/raw
DATA   ?= data/processed

.PHONY: hilfe venv beispieldaten aufbereiten berichte demo daten reports planlauf test test-schnell lint format bench screenshots mutation lock clean jupyter

hilfe: ## Diese Übersicht
	@echo "fh-analytik – verfügbare Ziele:"
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BYTECODE)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (fh-analytik)" >/dev/null
	@touch $@

venv: $(STAMP) ## Lokale Umgebung .venv aus requirements.lock einrichten

beispieldaten: $(STAMP) ## Beispieldaten schreiben, falls data/raw leer ist (fh-analytik beispieldaten)
	@if [ -z "$$(find $(RAW) -maxdepth 1 -type f \( -name '*.csv' -o -name '*.xlsx' \) -print -quit)" ]; then \
		$(BIN)/fh-analytik beispieldaten --ziel $(RAW); \
	else echo "data/raw enthält bereits Rohdaten – Beispieldaten werden nicht geschrieben."; fi

aufbereiten: beispieldaten ## Rohdaten prüfen und nach data/processed aufbereiten (fh-analytik aufbereiten)
	$(BIN)/fh-analytik aufbereiten --rohdaten $(RAW) --ziel $(DATA)

berichte: aufbereiten ## Alle Berichte auf den (Beispiel-)Daten erzeugen (fh-analytik berichte)
	@$(BYTECODE)
	$(BIN)/fh-analytik berichte

# Frühere Namen, entfallen mit Version 0.3 (Skripte und Gewohnheiten nutzen sie noch).
demo: beispieldaten
daten: aufbereiten
reports: berichte

planlauf: $(STAMP) ## Planmäßiger Lauf: aufbereiten + berichte, mit Sperre und Protokoll (docs/betrieb.md)
	deploy/fh-analytik-planlauf

test: $(STAMP) ## Alle Tests (inkl. Ende-zu-Ende) und Stilprüfung
	$(BIN)/ruff check src tests
	$(BIN)/python tools/check_notebooks.py
	$(BIN)/python -m pytest -n 2 -q

test-schnell: $(STAMP) ## Nur die schnellen Tests (ohne Ende-zu-Ende)
	$(BIN)/python -m pytest -q -m "not e2e"

lint: $(STAMP) ## Stil prüfen (ruff)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

format: $(STAMP) ## Code formatieren (ruff)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

bench: $(STAMP) ## Geschwindigkeitsmessungen (Verhältnis zur Basismessung im selben Lauf)
	@$(BYTECODE)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/geheimhaltung.py
	$(BIN)/python benchmarks/berichte.py

AXE_VERSION := 4.14.1
AXE_DIR     := build/axe

screenshots: $(STAMP) ## Bildschirmfotos von Übersicht und je einem Bericht jeder Art, axe-core-Prüfung (braucht chromium)
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
		echo "Chromium ist nicht installiert – keine Bildschirmfotos und keine axe-Prüfung."; exit 0; \
	fi; \
	if [ ! -f $(AXE_DIR)/node_modules/axe-core/axe.min.js ]; then \
		command -v npm >/dev/null || { echo "npm fehlt: axe-core lässt sich nicht installieren."; exit 2; }; \
		npm install --prefix $(AXE_DIR) --no-save --no-audit --no-fund --silent axe-core@$(AXE_VERSION); \
	fi; \
	$(BIN)/python tools/screenshots.py --axe $(AXE_DIR)/node_modules/axe-core

# Auswahl einzelner Mutanten (fnmatch), z. B. MUTANTEN='analysis.protection.rules.*'.
MUTANTEN ?=
# Zufallsstichprobe, derselbe Anteil je Modul, z. B. STICHPROBE=0,03: schätzt die Punktzahl
# aller Module mit Intervall in Stunden statt Tagen (tools/mutation_sample.py). Frühere
# Ergebnisse in mutants/ werden nach mutants.vorher-<Zeit>/ verschoben, damit nur die
# Stichprobe zählt; der erste mutmut-Aufruf erzeugt nur die Mutanten und die Testzuordnung
# (er sucht absichtlich eine Mutante, die es nicht gibt; Ausgabe in mutants/erzeugen.log).
STICHPROBE ?=
# Startwert des Zufalls der Stichprobe; ein neuer Startwert zieht eine neue, unabhängige
# Stichprobe (nötig, um nach neuen Tests die Punktzahl ehrlich neu zu schätzen).
STARTWERT ?= 2026
mutation: $(STAMP) ## Mutationstests (mutmut): Kennzahlen, Geheimhaltung, Aufbereitung, Berichtsplanung; Stunden, nicht in CI (docs/qualitaet.md)
	@if [ -n "$(STICHPROBE)" ]; then \
		$(BIN)/python tools/mutation_sample.py --pruefen --anteil '$(STICHPROBE)' --startwert '$(STARTWERT)' || exit 2; \
		if [ -d mutants ]; then \
			vorher=mutants.vorher-$$(date +%Y%m%d-%H%M%S); mv mutants $$vorher; \
			echo "Frühere Ergebnisse verschoben nach $$vorher/"; \
		fi; \
		mkdir -p mutants; \
		nice -n 15 $(BIN)/mutmut run --max-children 2 'nur.erzeugen' >mutants/erzeugen.log 2>&1; \
		names=$$($(BIN)/python tools/mutation_sample.py --anteil '$(STICHPROBE)' --startwert '$(STARTWERT)' $(MUTANTEN)) || exit 2; \
		echo "Stichprobe: $$(printf '%s\n' $$names | wc -l) Mutanten (mutants/stichprobe.txt)"; \
		nice -n 15 $(BIN)/mutmut run --max-children 2 $$names; status=$$?; \
	else \
		nice -n 15 $(BIN)/mutmut run --max-children 2 $(MUTANTEN); status=$$?; \
	fi; \
	$(BIN)/python tools/mutation_report.py; exit $$status

jupyter: $(STAMP) ## JupyterLab zum Erkunden starten
	$(BIN)/jupyter lab notebooks/

lock: ## requirements.lock und environment.yml aus einer frischen Installation neu erzeugen
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e ".[dev]"
	.venv-lock/bin/python tools/write_lock.py .venv-lock
	rm -rf .venv-lock

clean: ## Erzeugte Daten und Berichte löschen (Rohdaten bleiben)
	rm -rf mutants
	find $(DATA) -mindepth 1 ! -name README.md ! -name .gitkeep -exec rm -rf {} +
	find reports -mindepth 1 ! -name README.md ! -name .gitkeep -exec rm -rf {} +
