# The fiscal e-bill chain: one command installs what is missing and does the job.
#   make demo   - install, start the network, deploy, run the bill life cycle, then leave
#                 each org's service and the portal running on its data (make demo-down stops them)
#   make test   - the whole suite: unit tests and contract tests on a network the run starts itself
#   make faults - nodes killed under a load of issuances, on networks of their own
SHELL := /bin/bash
comma := ,
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install fabric postgres iproute2 portal-deps portal-font network-ready network-up network-down network-clean network-status serve portal demo demo-down test faults unit bench bench-scale bench-scale-resume bench-scale-down bench-scale-clean lint docs clean k8s-render k8s-validate

help:
	@echo "make demo | demo-down | test | faults | bench | bench-scale | lint | network-up | network-down | network-clean | network-status"
	@echo "  demo:      the network, a bill's life on it, then the services and the portal left running (prints the address)"
	@echo "  demo-down: stop the demo's services and portal (network-down stops the network and them)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

fabric:
	@bash network/install-fabric.sh >/dev/null

# The read model's tests start a throwaway PostgreSQL cluster with Debian's binaries.
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# The several-hosts test makes network namespaces with iproute2 (ip, ss), as root.
iproute2:
	@{ command -v ip && command -v ss; } >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }

install: $(STAMP) fabric postgres iproute2

network-up: install
	$(VENV)/bin/ebill-network up

network-down: $(STAMP)
	$(VENV)/bin/ebill-network down

network-clean: $(STAMP)
	$(VENV)/bin/ebill-network clean

network-status: $(STAMP)
	$(VENV)/bin/ebill-network status

# Start the network unless all of it is already running.
network-ready: install
	@$(VENV)/bin/ebill-network status | $(PY) -c 'import json,sys; sys.exit(0 if not json.load(sys.stdin)["stopped"] else 1)' \
		|| { $(VENV)/bin/ebill-network down >/dev/null; $(VENV)/bin/ebill-network up; }

# The HTTPS service of one org (ORG=units by default) on port SERVICE_PORT.
ORG ?= units
SERVICE_PORT ?= 8443
serve: network-ready
	$(VENV)/bin/ebill serve --org $(ORG) --port $(SERVICE_PORT)

# The portal's system parts: Debian's chromium (its browser tests; never `playwright
# install`), a CJK font for the bill's PDF, and axe-core from its lockfile.
AXE := tests/portal/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/portal/axe/package.json tests/portal/axe/package-lock.json
	npm ci --prefix tests/portal/axe --ignore-scripts --no-audit --no-fund

# ECharts for the supervision dashboard, from its lockfile; the built asset is copied into
# the portal's static folder by make (gitignored, never committed).
ECHARTS_PKG := portal/assets/node_modules/echarts/dist/echarts.min.js
ECHARTS := portal/ebill_portal/static/echarts.min.js
$(ECHARTS_PKG): portal/assets/package.json portal/assets/package-lock.json
	npm ci --prefix portal/assets --ignore-scripts --no-audit --no-fund
	@touch $@
$(ECHARTS): $(ECHARTS_PKG)
	cp $(ECHARTS_PKG) $@

WQY_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
portal-deps: $(AXE) $(ECHARTS)
	@if ! test -x /usr/bin/chromium || ! test -f $(WQY_FONT); then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei) \
		|| { echo "install chromium and fonts-wqy-microhei (Debian packages) for the portal"; exit 1; }; fi

# The CJK font of the bill's PDF, for the demo's portal (a warning, not a failure: only
# the PDF needs it).
portal-font:
	@test -f $(WQY_FONT) \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-microhei) \
		|| echo "warning: install fonts-wqy-microhei (Debian) for the portal's bill PDF"

# The portal (https://127.0.0.1:PORTAL_PORT) over the services named in PORTAL_SERVICES
# (ORG=URL,...; each started with `make serve ORG=...`); users: `ebill-portal users add`.
PORTAL_PORT ?= 9443
PORTAL_SERVICES ?= finance=https://127.0.0.1:8443,units=https://127.0.0.1:8444
PORTAL_SERVICE_CA ?= $(or $(EBILL_DATA_DIR),.data)/service-tls.crt
portal: $(STAMP) portal-deps
	$(VENV)/bin/ebill-portal serve --port $(PORTAL_PORT) $(foreach s,$(subst $(comma), ,$(PORTAL_SERVICES)),--service $(s)) --service-ca $(PORTAL_SERVICE_CA)

# The story on the network, then each org's service and the portal in the background on
# its data (ports EBILL_BASE_PORT+300.. and +310; pids in run/, logs in logs/ of the data).
demo: network-ready portal-font
	$(PY) -m ebill.demo
	$(VENV)/bin/ebill-portal demo up

demo-down: $(STAMP)
	$(VENV)/bin/ebill-portal demo down

test: install portal-deps
	$(PY) -m pytest -v

# Fault scenarios under load on networks of their own (about 12 minutes); the table is
# printed at the end and written to EBILL_FAULTS_REPORT (default: pytest's temporary folder).
faults: install
	$(PY) -m pytest -v tests/faults

unit: $(STAMP)
	$(PY) -m pytest -v tests/unit

# The official Node client, measured in the same run as the anchor.
BENCH_NODE := bench/node/node_modules/.package-lock.json

$(BENCH_NODE): bench/node/package.json bench/node/package-lock.json
	npm ci --prefix bench/node --ignore-scripts --no-audit --no-fund

bench: network-ready $(BENCH_NODE)
	$(PY) -m bench.gateway_bench
	$(PY) -m bench.index_bench --issue 200
	$(PY) -m bench.service_bench --no-read-model
	$(PY) -m bench.latency

# A million bills through the batch path on a fresh network of its own (SCALE_DATA, ports
# from SCALE_PORT): reads against the Go kv Get at 1k, 100k and 1M bills, load time, disk
# and memory (bench/scale.py; about 35 minutes; not in CI). The network is left running:
# bench-scale-resume continues a stopped load, bench-scale-down stops it, bench-scale-clean
# deletes it. SCALE_ARGS passes options, e.g. SCALE_ARGS="--bills 20000 --checkpoints 1000".
SCALE_DATA ?= $(CURDIR)/.data-scale
SCALE_PORT ?= 47050
SCALE_ARGS ?=
SCALE_ENV = EBILL_DATA_DIR=$(SCALE_DATA) EBILL_BASE_PORT=$(SCALE_PORT)
SCALE_HINT = echo "bench-scale: the network on $(SCALE_DATA) is left running: make bench-scale-down \
stops it, make bench-scale-clean deletes it, make bench-scale-resume continues a stopped load"

bench-scale: install
	$(SCALE_ENV) $(VENV)/bin/ebill-network clean
	$(SCALE_ENV) $(VENV)/bin/ebill-network up
	$(SCALE_ENV) $(PY) -m bench.scale --json $(SCALE_DATA)/bench-scale-result.json $(SCALE_ARGS); \
		status=$$?; $(SCALE_HINT); exit $$status

bench-scale-resume: install
	@$(SCALE_ENV) $(VENV)/bin/ebill-network status | $(PY) -c 'import json,sys; sys.exit(0 if not json.load(sys.stdin)["stopped"] else 1)' \
		|| { $(SCALE_ENV) $(VENV)/bin/ebill-network down >/dev/null; $(SCALE_ENV) $(VENV)/bin/ebill-network up; }
	$(SCALE_ENV) $(PY) -m bench.scale --resume --json $(SCALE_DATA)/bench-scale-result.json $(SCALE_ARGS); \
		status=$$?; $(SCALE_HINT); exit $$status

bench-scale-down: $(STAMP)
	$(SCALE_ENV) $(VENV)/bin/ebill-network down

bench-scale-clean: $(STAMP)
	$(SCALE_ENV) $(VENV)/bin/ebill-network clean

# The contract reference, generated from contract/interface.py (a unit test checks it is fresh).
docs: $(STAMP)
	$(PY) -m ebill_chaincode.contract.docs > docs/contract.md

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Kubernetes manifests (deploy/k8s): rendered from the network's configs; validated
# offline with kubeconform (validated, never run on a cluster here).
k8s-render: install
	$(PY) deploy/k8s/render.py

k8s-validate: $(STAMP)
	$(PY) deploy/k8s/validate.py

clean: network-clean
	rm -rf $(VENV) bench/node/node_modules
