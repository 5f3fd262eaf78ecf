"""Django's own session-backend tests, run against ``sessile.django``.

    python bindings-python/tests/django_suite/run.py [SDIST]

Django's ``tests/sessions_tests/tests.py`` is not part of the Django wheel; it ships in
Django's source distribution from PyPI. ``make tools`` downloads that sdist once, for the
installed Django version (pinned in ``requirements-dev.txt``), into ``.venv/django-sdist/``
(see mk/django.mk); this script checks its SHA-256 against :data:`SDISTS`, extracts
``tests/sessions_tests/`` into a temporary folder and imports Django's test module from
there: no Django code is kept in this repository, and no network is used here.

It runs Django's generic ``SessionTestsMixin`` (every test a backend must pass) with
``backend = sessile.django.SessionStore``, and ``SessionMiddlewareTests`` (Django's own
middleware with ``SESSION_ENGINE = "sessile.django"``). Tests listed in
:data:`DEVIATIONS` are the documented differences (bindings-python/README.md, "Django");
the run fails when any other test fails, or when a listed one passes (the list is stale).
It ends with the plain ``N passed, N failed`` line.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path

#: The sdists this runner accepts: version -> SHA-256 of django-<version>.tar.gz.
SDISTS = {
    "5.2.20": "37a2895b4039ad388ffc8fb62603aba497b0c2fe884eb40ead3e8ad7a3ccad57",
}

#: Django's tests that sessile.django does not pass, each with its reason (test id ->
#: reason). Kept in step with the "Django" section of bindings-python/README.md.
DEVIATIONS: dict[str, str] = {
    "SessileMiddlewareTests.test_empty_session_saved": (
        "reads the session back from django.contrib.sessions' database table "
        "(Session.objects.get), which sessile does not use: the data is in the engine"
    ),
}

ROOT = Path(__file__).resolve().parents[3]


def extract(sdist: Path, version: str, into: Path) -> Path:
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if SDISTS.get(version) != digest:
        raise SystemExit(f"{sdist}: sha256 {digest} is not the pinned one for Django {version}")
    prefix = f"django-{version}/tests/sessions_tests/"
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(prefix) and m.isfile()]
        if not members:
            raise SystemExit(f"{sdist}: no {prefix}")
        for m in members:
            target = into / "sessions_tests" / m.name[len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            source = tar.extractfile(m)
            assert source is not None
            target.write_bytes(source.read())
    return into


def configure() -> None:
    from django.conf import settings

    settings.configure(
        SECRET_KEY="django-suite-only",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.sessions",
            "sessions_tests",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        SESSION_ENGINE="sessile.django",
        # Django's default is two weeks; sessile's absolute timeout is 8 h and wins over
        # a longer age. An hour is honoured, so get_expiry_age() meets the setting.
        SESSION_COOKIE_AGE=3600,
        MIDDLEWARE=[],
    )
    import django

    django.setup()


def main(argv: list[str]) -> int:
    import django

    version = django.get_version()
    venv = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv")
    sdist = Path(argv[0]) if argv else venv / "django-sdist" / f"django-{version}.tar.gz"
    if not sdist.is_file():
        raise SystemExit(f"{sdist} is missing: run `make tools` (mk/django.mk downloads it)")
    with tempfile.TemporaryDirectory(prefix="sessile-django-suite-") as tmp:
        sys.path.insert(0, str(extract(sdist, version, Path(tmp))))
        configure()
        from django.test import SimpleTestCase, TestCase
        from django.test.utils import get_runner
        from sessions_tests import tests as django_tests

        from sessile.django import SessionStore

        class SessileSessionTests(django_tests.SessionTestsMixin, SimpleTestCase):  # type: ignore[misc,name-defined]
            backend = SessionStore

        class SessileMiddlewareTests(django_tests.SessionMiddlewareTests, TestCase):  # type: ignore[misc,name-defined]
            pass

        loader = unittest.TestLoader()
        suite = unittest.TestSuite(
            [
                loader.loadTestsFromTestCase(SessileSessionTests),
                loader.loadTestsFromTestCase(SessileMiddlewareTests),
            ]
        )
        runner = get_runner(django.conf.settings)(verbosity=1, interactive=False)
        old = runner.setup_databases()
        runner.setup_test_environment()
        try:
            result = unittest.TextTestRunner(stream=sys.stderr, verbosity=1).run(suite)
        finally:
            runner.teardown_test_environment()
            runner.teardown_databases(old)
    failed = {
        t.id().rsplit(".", 2)[-2] + "." + t.id().rsplit(".", 1)[-1]: why
        for t, why in [*result.failures, *result.errors]
    }
    unexpected = sorted(set(failed) - set(DEVIATIONS))
    stale = sorted(set(DEVIATIONS) - set(failed))
    for name in sorted(failed):
        reason = DEVIATIONS.get(name, "UNEXPECTED")
        first = failed[name].strip().splitlines()[-1]
        print(f"deviation {name}: {reason} ({first})")
    for name in stale:
        print(f"stale deviation (passes now): {name}")
    total = result.testsRun
    print(
        f"django sessions_tests: {total - len(failed)} passed, {len(failed)} failed "
        f"({len(failed) - len(unexpected)} documented deviations, {len(unexpected)} unexpected)"
    )
    return 1 if unexpected or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
