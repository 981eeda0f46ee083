"""Settings from TRIAGE_ variables and flags, and the ``triage serve`` command up to uvicorn."""
import os
from pathlib import Path

import pytest

from service.settings import Settings, default_body_bytes, get_settings
from tests.conftest import MODELS, SERVICE_ADMIN_KEY, SERVICE_KEY
from triage.cli.main import main
from triage.errors import InputError


def test_defaults():
    s = Settings.from_env({})
    assert (s.host, s.port, s.workers, s.max_items, s.max_text_chars, s.docs, s.insecure_dev) == \
        ("127.0.0.1", 8000, 1, 1000, 5000, True, False)
    assert s.api_keys == () and s.admin_keys == () and not s.auth_enabled and s.reload_signal is None
    assert s.body_limit == default_body_bytes(1000, 5000) == 1000 * (6 * 5000 + 2048) + 65536


def test_environment_variables_and_flags_on_top():
    env = {"TRIAGE_HOST": "0.0.0.0", "TRIAGE_PORT": "9000", "TRIAGE_WORKERS": "2", "TRIAGE_MODELS_DIR": "/srv/models",
           "TRIAGE_API_KEYS": f" {SERVICE_KEY} , another-key-0123456789,", "TRIAGE_ADMIN_KEYS": SERVICE_ADMIN_KEY,
           "TRIAGE_MAX_ITEMS": "50", "TRIAGE_MAX_TEXT_CHARS": "800", "TRIAGE_MAX_BODY_BYTES": "100000",
           "TRIAGE_DOCS": "off", "TRIAGE_LOG_LEVEL": "WARNING", "TRIAGE_INSECURE_DEV": "no"}
    s = Settings.from_env(env)
    assert (s.host, s.port, s.workers, s.model_dir, s.max_items, s.max_text_chars, s.body_limit, s.docs, s.log_level) \
        == ("0.0.0.0", 9000, 2, Path("/srv/models"), 50, 800, 100000, False, "warning")
    assert [k.get_secret_value() for k in s.api_keys] == [SERVICE_KEY, "another-key-0123456789"]
    assert [k.get_secret_value() for k in s.admin_keys] == [SERVICE_ADMIN_KEY]
    flagged = Settings.from_env(env, port=9100, workers=None, docs=True)
    assert (flagged.port, flagged.workers, flagged.docs) == (9100, 2, True)
    assert Settings.from_env(s.to_env()) == s


def test_settings_are_pydantic_settings_read_from_the_process_environment(monkeypatch):
    from pydantic_settings import BaseSettings

    monkeypatch.setenv("TRIAGE_PORT", "8124")
    monkeypatch.setenv("TRIAGE_MODELS_DIR", "/srv/m")
    monkeypatch.setenv("TRIAGE_API_KEYS", SERVICE_KEY)
    s = Settings()
    assert isinstance(s, BaseSettings) and (s.port, s.model_dir) == (8124, Path("/srv/m"))
    assert Settings(port=8125).port == 8125  # a value given (a flag) wins over the environment
    assert Settings.from_env({}).port == 8000  # a given mapping, not the process environment


def test_empty_values_keep_their_old_meaning():
    s = Settings.from_env({"TRIAGE_MAX_BODY_BYTES": " ", "TRIAGE_RELOAD_SIGNAL": "", "TRIAGE_API_KEYS": "",
                           "TRIAGE_DOCS": "", "TRIAGE_PORT": " 8001 "})
    assert (s.max_body_bytes, s.reload_signal, s.api_keys, s.docs, s.port) == (None, None, (), False, 8001)


def test_keys_never_show_in_repr_str_logs_or_errors(caplog):
    import logging

    s = Settings.from_env({"TRIAGE_API_KEYS": SERVICE_KEY, "TRIAGE_ADMIN_KEYS": SERVICE_ADMIN_KEY})
    with caplog.at_level(logging.INFO):
        logging.getLogger("service").info("settings: %s / %r", s, s)
        logging.getLogger("service").info("dump: %s", s.model_dump())
    shown = repr(s) + str(s) + caplog.text + s.model_dump_json()
    assert SERVICE_KEY not in shown and SERVICE_ADMIN_KEY not in shown
    assert "SecretStr('**********')" in repr(s)
    assert s.to_env()["TRIAGE_API_KEYS"] == SERVICE_KEY  # the one place the value is read back, for workers
    with pytest.raises(InputError) as exc:
        Settings.from_env({"TRIAGE_API_KEYS": f"{SERVICE_KEY},short-key"})
    assert str(exc.value).startswith("TRIAGE_API_KEYS: key #2 has 9 characters") and "short-key" not in str(exc.value)
    assert SERVICE_KEY not in str(exc.value)


@pytest.mark.parametrize("env, message", [
    ({"TRIAGE_PORT": "eighty"}, "TRIAGE_PORT (--port): Input should be a valid integer"),
    ({"TRIAGE_PORT": "70000"}, "TRIAGE_PORT (--port): Input should be less than or equal to 65535; found '70000'"),
    ({"TRIAGE_WORKERS": "0"}, "TRIAGE_WORKERS (--workers): Input should be greater than or equal to 1"),
    ({"TRIAGE_MAX_ITEMS": "-5"}, "TRIAGE_MAX_ITEMS (--max-items): Input should be greater than or equal to 1"),
    ({"TRIAGE_DOCS": "maybe"}, "TRIAGE_DOCS: expected true or false (1/0, yes/no, on/off), found 'maybe'"),
    ({"TRIAGE_LOG_LEVEL": "loud"}, "TRIAGE_LOG_LEVEL (--log-level): expected one of ['debug', 'info', 'warning', "
                                   "'error'], found 'loud'"),
])
def test_bad_values_name_the_variable_and_the_flag(env, message):
    with pytest.raises(InputError) as exc:
        Settings.from_env(env)
    assert str(exc.value).startswith(message)


def test_get_settings_is_cached_per_process(monkeypatch):
    get_settings.cache_clear()
    monkeypatch.setenv("TRIAGE_PORT", "8123")
    try:
        assert get_settings() is get_settings() and get_settings().port == 8123
    finally:
        get_settings.cache_clear()


def test_the_routes_take_their_settings_from_the_overridable_dependency(service_app):
    from fastapi.testclient import TestClient

    new_key = "rotated-key-0123456789abc"
    app = service_app()
    assert app.dependency_overrides[get_settings]().api_keys[0].get_secret_value() == SERVICE_KEY
    with TestClient(app) as c:
        assert c.get("/v1/taxonomy", headers={"X-API-Key": SERVICE_KEY}).status_code == 200
        app.dependency_overrides[get_settings] = lambda: Settings(api_keys=(new_key,), model_dir=MODELS)
        assert c.get("/v1/taxonomy", headers={"X-API-Key": SERVICE_KEY}).status_code == 401
        assert c.get("/v1/taxonomy", headers={"X-API-Key": new_key}).status_code == 200
        assert c.post("/v1/admin/reload", headers={"X-API-Key": SERVICE_ADMIN_KEY}).status_code == 401


# ------------------------------------------------------------------------ triage serve
@pytest.fixture
def serve_env(monkeypatch):
    """A private copy of the environment (the command exports its settings into it) and a fake uvicorn."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    monkeypatch.setattr(os, "environ", env)
    calls = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw, dict(os.environ))))
    import service.workers

    def workers(app, host, port, workers, **kw):
        calls.append((app, dict(kw, host=host, port=port, workers=workers), dict(os.environ)))
        return 0

    monkeypatch.setattr(service.workers, "serve_workers", workers)
    import service.serve

    monkeypatch.setattr(service.serve, "check_port_free", lambda host, port: calls.append(("port check", host, port)))
    return env, calls


def test_serve_hands_flags_and_environment_to_uvicorn(serve_env, capsys):
    env, calls = serve_env
    env.update(TRIAGE_API_KEYS=SERVICE_KEY, TRIAGE_PORT="9001", TRIAGE_MAX_ITEMS="20")
    assert main(["serve", "--port", "9002", "--workers", "2", "--model", str(MODELS), "--no-docs"]) == 0
    assert calls[0] == ("port check", "127.0.0.1", 9002)  # before any worker starts
    (app, kw, exported), = calls[1:]
    assert app == "service.app:create_app_from_env" and "factory" not in kw  # each worker builds the app itself
    assert (kw["host"], kw["port"], kw["workers"], kw["access_log"]) == ("127.0.0.1", 9002, 2, False)
    assert kw["log_config"]["handlers"]["stderr"]["filters"] == ["mask"]
    worker = Settings.from_env(exported)  # what each worker process will read
    assert (worker.port, worker.workers, worker.max_items, worker.docs, worker.model_dir) == (9002, 2, 20, False, MODELS)
    assert [k.get_secret_value() for k in worker.api_keys] == [SERVICE_KEY]
    assert worker.reload_signal is not None  # workers pass reloads on
    err = capsys.readouterr().err
    assert "serving model" in err and "on http://127.0.0.1:9002 (2 workers); docs: off" in err
    assert SERVICE_KEY not in err


def test_serve_refuses_to_start_without_keys(serve_env, capsys):
    env, calls = serve_env
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: no API key configured: set TRIAGE_API_KEYS") and err.count("\n") == 1
    assert calls == []


def test_serve_insecure_dev_starts_on_loopback_only(serve_env, capsys):
    env, calls = serve_env
    assert main(["serve", "--insecure-dev", "--host", "0.0.0.0"]) == 1
    assert "only listens on a loopback address" in capsys.readouterr().err
    assert main(["serve", "--insecure-dev", "--model", str(MODELS)]) == 0
    assert "warning: --insecure-dev: no API key, every route is open on 127.0.0.1" in capsys.readouterr().err
    (_, kw, exported), = calls[1:]
    assert exported["TRIAGE_INSECURE_DEV"] == "true" and kw["workers"] == 1 and "TRIAGE_RELOAD_SIGNAL" not in exported


def test_serve_refuses_a_folder_that_holds_no_model(serve_env, tmp_path, capsys):
    env, calls = serve_env
    env["TRIAGE_API_KEYS"] = SERVICE_KEY
    assert main(["serve", "--model", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith(f"Error: {tmp_path} is not a model")
    assert calls == []


def test_serve_help_has_an_example(capsys):
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "example:" in out and "TRIAGE_API_KEYS" in out and "--insecure-dev" in out
