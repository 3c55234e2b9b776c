# The two commands: `make run` and `make test`. Everything else is a helper.
# uv is bootstrapped into .tools/ so it does not depend on which pyenv Python
# a globally installed uv belongs to.
SHELL := /bin/bash
UV := $(CURDIR)/.tools/bin/uv
PYTHON_VERSION := $(shell cat .python-version)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON_VERSION)
MANAGE := $(UV) run --frozen python manage.py
PYTEST_ARGS ?=

.PHONY: run serve test install migrate lint messages

$(UV):
	@python$(PYTHON_VERSION) -m venv .tools 2>/dev/null || python3 -m venv .tools
	@.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: $(UV) pyproject.toml uv.lock
	@$(UV) sync --frozen --quiet
	@touch $@

install: .venv/.synced

migrate: install
	@$(MANAGE) migrate --no-input

# Migrates, then starts the web server, worker, periodic sync and emulators.
run: install
	@$(UV) run --frozen python -m events_face.devstack

# The production web server: gunicorn with gunicorn.conf.py (workers, threads and
# timeouts from the environment). Migrations are a separate deploy step
# (`make migrate`), so that starting a web process never changes the schema.
serve: install
	@$(MANAGE) collectstatic --no-input --verbosity 0
	@$(UV) run --frozen gunicorn -c gunicorn.conf.py

test: install
	@$(UV) run --frozen pytest $(PYTEST_ARGS)

# Style, formatting, and the layering of docs/architecture.md (import-linter's
# contracts in pyproject.toml).
lint: install
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check --quiet .
	@$(UV) run --frozen lint-imports --no-cache

# Folders makemessages and compilemessages leave alone: not ours, or not shipped.
I18N_IGNORE := --ignore=.venv --ignore=.tools --ignore=var --ignore=bench --ignore=tests --ignore=docs

# Regenerates locale/ru/LC_MESSAGES/django.po from the source and compiles it to
# django.mo; commit both (make run and make test need no gettext). Installs GNU
# gettext from Debian's packages when msgfmt is missing.
messages: install
	@command -v msgfmt >/dev/null || { \
		echo "msgfmt not found: installing gettext with apt-get"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq gettext; }
	@$(MANAGE) makemessages -l ru --no-obsolete --add-location file $(I18N_IGNORE)
	@$(MANAGE) compilemessages $(I18N_IGNORE)
