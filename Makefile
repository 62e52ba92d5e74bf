# Shortcuts for the scripts; each one creates .venv when it is missing.
#
#   make test                 lint, type check and the tests (scripts/test)
#   make run                  nextcall on this machine (scripts/run)
#   make bench                the benchmark; options through ARGS, e.g.
#   make bench ARGS="--quick --only saturation,realistic"

VENV := .venv
ARGS ?=

.PHONY: test run bench

test:
	scripts/test $(ARGS)

run:
	scripts/run $(ARGS)

# scripts/run --help installs the project into .venv (only when needed) and stops there.
$(VENV)/bin/nextcall:
	scripts/run --help >/dev/null

# The benchmark's HTTP client for the import (httpx) is a development dependency.
bench: $(VENV)/bin/nextcall
	@$(VENV)/bin/python -c 'import httpx' 2>/dev/null \
		|| $(VENV)/bin/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	$(VENV)/bin/nextcall bench $(ARGS)
