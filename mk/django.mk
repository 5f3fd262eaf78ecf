# Django support (sessile.django, in bindings-python/): Django's own session-backend tests
# run against it, and its demo's lint. Django itself is pinned in
# bindings-python/requirements-dev.txt; its tests are not in the wheel, so the matching
# source distribution is downloaded from PyPI once, into $(VENV) (the runner checks its
# SHA-256 and extracts tests/sessions_tests/ at test time; no Django code is kept here).

DJANGO_VERSION := $(shell sed -n 's/^django==//p' bindings-python/requirements-dev.txt)
DJANGO_SDIST := $(VENV)/django-sdist/django-$(DJANGO_VERSION).tar.gz

.PHONY: tools-django lint-django test-django demo-django

TOOLS_TARGETS += tools-django
LINT_TARGETS += lint-django
TEST_TARGETS += test-django

$(DJANGO_SDIST): bindings-python/requirements-dev.txt | tools-python
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
		--dest $(dir $@) django==$(DJANGO_VERSION)
	test -f $@ && touch $@

tools-django: tools-python $(DJANGO_SDIST)

lint-django: tools-python
	$(VENV)/bin/ruff check --no-cache examples/django
	$(VENV)/bin/ruff format --no-cache --check examples/django

test-django: tools-django
	cd bindings-python && $(PY) tests/django_suite/run.py

demo-django: tools-python
	$(PY) examples/django/app.py
