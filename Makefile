# The two commands of the README:
#   make lab    set everything up and run the main job on the lab (root, Debian 12)
#   make test   set everything up and run the tests
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
APT_PACKAGES := debootstrap systemd-container apt-cacher-ng nftables iproute2 openssh-client openssh-server \
	iputils-ping traceroute netcat-openbsd python3-venv git ca-certificates
PYTEST_ARGS ?=

.PHONY: deps apt venv lab test lint unit lab-test bench clean-lab

deps: apt venv

apt:
	@if ! command -v debootstrap >/dev/null || ! command -v systemd-nspawn >/dev/null \
	    || ! command -v apt-cacher-ng >/dev/null || ! command -v traceroute >/dev/null \
	    || ! command -v nc >/dev/null || ! test -x /usr/sbin/sshd || ! command -v ping >/dev/null; then \
	  echo ">> apt-get install $(APT_PACKAGES)"; \
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

## the main job on the lab: build it, converge, configure devices, verify, report
lab: deps
	egov run

lint: venv
	ruff check src tests benchmarks stacks network
	yamllint .
	egov model check
	egov inventory check

unit: venv
	pytest -q -m "not lab" -n 2 --ignore=tests/network $(PYTEST_ARGS)
	@# the network tests share emulated devices and firewalls between tests: run them in order
	pytest -q -m "not lab" -p no:xdist tests/network $(PYTEST_ARGS)

lab-test: deps
	EGOV_LAB_TAKEOVER=$${EGOV_LAB_TAKEOVER:-0} pytest -q -m lab $(PYTEST_ARGS)

## every test: lint, unit tests (parallel), then the tests that build real lab hosts
test: deps lint unit lab-test

bench: deps
	python benchmarks/lab_scale.py

clean-lab: venv
	egov lab down
