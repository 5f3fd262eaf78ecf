"""sessile.django: the security properties a Django app relies on, through Django's own
login/logout (django.contrib.auth) and the full middleware stack.

Django's generic session-backend tests run separately (tests/django_suite/run.py)."""

from __future__ import annotations

import logging
import warnings
from datetime import timedelta
from typing import Any

import django
import pytest
from django.conf import settings

settings.configure(
    SECRET_KEY="sessile-tests",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    MIDDLEWARE=[
        "sessile.django.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    SESSION_ENGINE="sessile.django",
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # fast, tests only
    USE_TZ=True,
)
django.setup()

from django.contrib.auth import authenticate, login, logout  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.sessions.backends.base import UpdateError  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402

import sessile  # noqa: E402
import sessile.django as sd  # noqa: E402

COOKIE = "__Host-sid"


def _index(request: Any) -> HttpResponse:
    request.session.setdefault("cart", [1, 2])
    return HttpResponse("ok")


def _login(request: Any) -> HttpResponse:
    user = authenticate(
        request, username=request.POST["username"], password=request.POST["password"]
    )
    if user is None:
        return HttpResponse("bad credentials", status=401)
    login(request, user)
    return HttpResponse("logged in")


def _whoami(request: Any) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponse("anonymous", status=401)
    return JsonResponse({"user": request.user.username, "cart": request.session.get("cart")})


def _logout(request: Any) -> HttpResponse:
    logout(request)
    return HttpResponse("bye")


def _forget_user(request: Any) -> HttpResponse:
    request.session.pop("_auth_user_id")  # logging out without flush()
    return HttpResponse("forgot")


def _store(request: Any) -> HttpResponse:
    request.session[request.GET["key"]] = timezone.now()  # not JSON
    return HttpResponse("stored")


def _remember(request: Any) -> HttpResponse:
    request.session.set_expiry(7 * 86400)  # "remember me": a week of inactivity
    return HttpResponse("remembered")


urlpatterns = [
    path("remember", _remember),
    path("", _index),
    path("login", _login),
    path("whoami", _whoami),
    path("logout", _logout),
    path("forget-user", _forget_user),
    path("store", _store),
]


@pytest.fixture(scope="module", autouse=True)
def _users() -> None:
    call_command("migrate", verbosity=0, interactive=False)
    for name in ("alice", "bob"):
        User.objects.create_user(name, password=name)


@pytest.fixture(autouse=True)
def _fresh_engine() -> Any:
    sd.reset_engine()
    yield
    sd.reset_engine()


def token_of(response: Any) -> str | None:
    morsel = response.cookies.get(COOKIE)
    return morsel.value if morsel is not None and morsel.value else None


def as_cookie(token: str) -> dict[str, str]:
    return {"HTTP_COOKIE": f"{COOKIE}={token}"}


def anonymous() -> str:
    token = token_of(Client().get("/"))
    assert token
    return token


def log_in(token: str | None, user: str = "alice") -> str:
    headers = as_cookie(token) if token else {}
    r = Client().post("/login", {"username": user, "password": user}, **headers)
    assert r.status_code == 200
    fresh = token_of(r)
    assert fresh
    return fresh


def whoami(token: str) -> int:
    return int(Client().get("/whoami", **as_cookie(token)).status_code)


def test_login_rotates_the_key_binds_the_user_and_keeps_the_data() -> None:
    before = anonymous()
    after = log_in(before)
    assert after != before
    alice = User.objects.get(username="alice")
    assert sd.engine().peek(after).principal == str(alice.pk)
    r = Client().get("/whoami", **as_cookie(after))
    assert r.status_code == 200
    assert r.json() == {"user": "alice", "cart": [1, 2]}


def test_a_stolen_pre_login_cookie_is_dead_and_its_use_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    planted = anonymous()
    log_in(planted)
    with caplog.at_level(logging.INFO, logger="sessile.security"):
        assert whoami(planted) == 401
    assert "reuse_after_rotation" in caplog.text


def test_logout_ends_the_session_server_side_and_reuse_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = log_in(None)
    r = Client().post("/logout", **as_cookie(token))
    assert r.status_code == 200
    assert r.cookies[COOKIE].value == ""
    assert "Max-Age=0" in r.cookies[COOKIE].OutputString()
    with pytest.raises(sessile.SessionInvalid):
        sd.engine().peek(token)
    with caplog.at_level(logging.INFO, logger="sessile.security"):
        assert whoami(token) == 401  # a copy of the cookie kept by an attacker
    assert "reuse_after_logout" in caplog.text


def test_an_unknown_or_tampered_cookie_is_never_adopted() -> None:
    real = anonymous()
    chosen = "A" * 43  # the shape of a token, chosen by an attacker
    tampered = real[:-1] + ("B" if real[-1] != "B" else "C")
    for key in (chosen, tampered, "attacker-chosen-key"):
        r = Client().get("/", **as_cookie(key))
        issued = token_of(r)
        assert issued and issued != key
        assert not sd.SessionStore().exists(key)
        assert sd.SessionStore(key).session_key is None  # dropped at once, not at load
    assert sd.SessionStore().exists(real)  # the user's own session is untouched


def test_session_keys_come_from_the_engine() -> None:
    store = sd.SessionStore()
    store["x"] = 1
    store.save()
    key = store.session_key
    assert key is not None and sd.engine().peek(key).payload_len > 0
    assert sd.SessionStore()._get_new_session_key() != key


def test_logout_everywhere_ends_every_session_of_the_user() -> None:
    first, second = log_in(None, "bob"), log_in(None, "bob")
    other = log_in(None, "alice")
    bob = User.objects.get(username="bob")
    assert sd.sessions_of_user(bob.pk) == 2
    assert sd.revoke_user(bob.pk) == 2
    assert whoami(first) == 401 and whoami(second) == 401
    assert whoami(other) == 200


def test_removing_the_user_without_flush_unbinds_it() -> None:
    token = log_in(None)
    r = Client().get("/forget-user", **as_cookie(token))
    fresh = token_of(r)
    assert fresh and fresh != token
    assert sd.engine().peek(fresh).principal is None
    with pytest.raises(sessile.SessionInvalid):
        sd.engine().peek(token)


def test_the_cookie_is_the_engines() -> None:
    r = Client().get("/")
    text = r.cookies[COOKIE].OutputString()
    token = token_of(r)
    assert text == f"{COOKIE}={token}; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Lax"
    assert r.headers["Vary"] == "Cookie"


def test_a_longer_expiry_gives_a_cookie_as_long() -> None:
    r = Client().get("/remember")
    assert "Max-Age=604800;" in r.cookies[COOKIE].OutputString()
    info = sd.engine().peek(token_of(r))
    assert (info.idle_timeout, info.absolute_timeout) == (604800, 604800)


def test_a_value_the_serializer_refuses_names_its_key() -> None:
    client = Client(raise_request_exception=True)
    with pytest.raises(TypeError, match="'when'"):
        client.get("/store?key=when")


def test_a_session_logged_out_elsewhere_is_not_brought_back() -> None:
    s1 = sd.SessionStore()
    s1["a"] = 1
    s1.save()
    sd.SessionStore(s1.session_key).flush()
    s1["a"] = 2
    with pytest.raises(UpdateError):
        s1.save()


def test_set_expiry_maps_to_the_engines_timeouts() -> None:
    store = sd.SessionStore()
    store["a"] = 1
    store.set_expiry(60)
    store.save()
    info = sd.engine().peek(store.session_key)
    assert info.idle_timeout == 60
    store.set_expiry(timedelta(minutes=10))
    store.save()
    info = sd.engine().peek(store.session_key)
    assert 599 <= info.absolute_timeout - (sd.engine().now() - info.created) <= 600
    store.set_expiry(None)
    store.save()
    info = sd.engine().peek(store.session_key)
    assert (info.idle_timeout, info.absolute_timeout) == (1800, 28800)


def test_set_expiry_above_the_maximum_is_cut_with_a_warning() -> None:
    store = sd.SessionStore()
    store.set_expiry(365 * 86400)
    sd._warned_caps.clear()
    with pytest.warns(sd.SettingsWarning, match="max_idle_timeout"):
        store.save()
    info = sd.engine().peek(store.session_key)
    assert info.idle_timeout == sd.engine().config["max_idle_timeout"]


def test_an_expiry_in_the_past_ends_the_session() -> None:
    store = sd.SessionStore()
    store["a"] = 1
    store.set_expiry(-timedelta(seconds=5))
    store.save()
    assert not store.exists(store.session_key)


def built_with(**overrides: Any) -> tuple[sessile.Engine, list[str]]:
    with override_settings(**overrides), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        e = sd.engine()
    sd.reset_engine()
    return e, [str(w.message) for w in caught if issubclass(w.category, sd.SettingsWarning)]


def test_django_settings_that_weaken_the_defaults_give_one_warning() -> None:
    e, said = built_with(
        SESSION_COOKIE_SECURE=False, SESSION_COOKIE_HTTPONLY=False, SESSION_COOKIE_SAMESITE=None
    )
    assert (e.config["cookie_secure"], e.config["cookie_http_only"]) == (True, True)
    assert e.config["cookie_same_site"] == "lax"
    assert len(said) == 1
    for name in ("SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE"):
        assert name in said[0]


def test_django_settings_that_do_not_weaken_are_honoured_silently() -> None:
    e, said = built_with(
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_AGE=3600,
        SESSION_COOKIE_NAME="__Host-app",
        SESSION_EXPIRE_AT_BROWSER_CLOSE=True,
    )
    assert said == []
    config = e.config
    assert config["cookie_same_site"] == "strict"
    assert config["cookie_name"] == "__Host-app"
    assert (config["idle_timeout"], config["absolute_timeout"]) == (1800, 3600)
    assert config["cookie_persistent"] is False


def test_a_longer_cookie_age_keeps_the_absolute_timeout_with_a_warning() -> None:
    e, said = built_with(SESSION_COOKIE_AGE=14 * 86400)
    assert e.config["absolute_timeout"] == 28800
    assert len(said) == 1 and "SESSION_COOKIE_AGE" in said[0]


def test_sessile_settings_win_and_a_domain_drops_the_host_prefix() -> None:
    e, said = built_with(
        SESSILE={"idle_timeout": 60, "cookie_secure": True},
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_SECURE=False,
    )
    assert e.config["idle_timeout"] == 60
    assert e.config["cookie_name"] == "__Secure-sid"
    assert e.config["cookie_domain"] == "example.com"
    assert said == []  # cookie_secure is the app's own sessile choice


def test_unknown_sessile_keys_are_a_configuration_error() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with override_settings(SESSILE={"idle_timout": 60}):
        with pytest.raises(ImproperlyConfigured, match="idle_timout"):
            sd.engine()


def test_djangos_own_middleware_warns_that_it_writes_a_weaker_cookie() -> None:
    _, said = built_with(MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"])
    assert len(said) == 1 and "not Secure" in said[0]


def test_the_readme_settings_snippet_configures_the_backend() -> None:
    import re

    from conftest import ROOT

    readme = (ROOT / "bindings-python" / "README.md").read_text()
    [code] = [c for c in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "SESSION_ENGINE" in c]
    ns: dict[str, Any] = {}
    exec(compile(code, "README django", "exec"), ns)
    with override_settings(
        SESSION_ENGINE=ns["SESSION_ENGINE"], MIDDLEWARE=ns["MIDDLEWARE"], SESSILE=ns["SESSILE"]
    ):
        r = Client().get("/")
        assert token_of(r)
        assert sd.engine().config["idle_timeout"] == ns["SESSILE"]["idle_timeout"]


def test_get_expiry_age_follows_the_engine() -> None:
    store = sd.SessionStore()
    store["a"] = 1
    store.save()
    assert 28799 <= store.get_expiry_age() <= 28800
    store.set_expiry(7 * 86400)
    store.save()
    store.set_expiry(None)  # Django's own rule then reads the session cookie age
    assert 604799 <= store.get_session_cookie_age() <= 604800


def test_a_store_that_cannot_answer_gives_503(monkeypatch: pytest.MonkeyPatch) -> None:
    token = log_in(None)

    def down(self: Any, must_create: bool = False) -> None:
        raise sessile.StoreUnavailable("redis down", "store_unavailable")

    monkeypatch.setattr(sd.SessionStore, "save", down)
    r = Client().get("/")
    assert r.status_code == 503 and r.content == b"session store unavailable\n"

    def begin_down(self: Any, cookie_header: Any = None) -> bytes:
        raise sessile.StoreUnavailable("redis down", "store_unavailable")

    monkeypatch.setattr(sd.SessionStore, "_begin", begin_down)
    r = Client().get("/whoami", **as_cookie(token))
    assert r.status_code == 503 and r.content == b"session store unavailable\n"


def test_with_djangos_own_middleware_login_and_logout_still_end_old_tokens() -> None:
    stock = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
    with override_settings(MIDDLEWARE=stock), pytest.warns(sd.SettingsWarning):
        client = Client()
        client.get("/")
        before = client.cookies["sessionid"].value
        client.post("/login", {"username": "alice", "password": "alice"})
        after = client.cookies["sessionid"].value
        assert after != before
        assert not sd.SessionStore().exists(before)
        assert client.get("/whoami").status_code == 200
        client.post("/logout")
        assert not sd.SessionStore().exists(after)
        stolen = Client()
        stolen.cookies["sessionid"] = after
        assert stolen.get("/whoami").status_code == 401
