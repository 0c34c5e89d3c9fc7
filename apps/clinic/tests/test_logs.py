"""The logging set-up (core/logs.py, settings.LOGGING): keys, zone, ids, withheld texts."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError

from apps.clinic.tasks import processar_agendamento_especifico
from core import logs

from .support import BASE_DIR


class Coletor(logging.Handler):
    """Keeps the records (through the project's context filter) and their formatted lines."""

    def __init__(self, formatador: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(logs.ContextoDoLog())
        self.setFormatter(formatador)
        self.linhas: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.linhas.append(self.format(record))


@pytest.fixture
def coletor():
    handler = Coletor(logs.FormatoJson(fuso="America/Sao_Paulo"))
    raiz = logging.getLogger()
    nivel = raiz.level
    raiz.addHandler(handler)
    raiz.setLevel(logging.DEBUG)
    yield handler
    raiz.removeHandler(handler)
    raiz.setLevel(nivel)


def _json(handler: Coletor) -> list[dict]:
    return [json.loads(linha) for linha in handler.linhas]


def test_a_json_line_has_the_fixed_keys_in_the_clinics_zone_and_no_library_extra(coletor):
    pedido = SimpleNamespace(__repr__=lambda self: "<WSGIRequest: GET '/?search=Maria'>")
    logging.getLogger("django.request").warning(
        "Not Found: %s",
        "/api/x/",
        extra={"status_code": 404, "request": pedido, "data": {"args": "('Maria',)"}},
    )
    (linha,) = _json(coletor)
    assert set(linha) == {"time", "level", "logger", "process", "message", "status_code"}
    assert linha["message"] == "Not Found: /api/x/"
    # ISO 8601 with São Paulo's offset, milliseconds.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-03:00", linha["time"])
    assert datetime.fromisoformat(linha["time"]).utcoffset() == timedelta(hours=-3)
    assert "Maria" not in coletor.linhas[0]


def test_the_text_line_shows_the_context_between_brackets():
    formatador = logs.FormatoTexto(fuso="UTC")
    registro = logging.LogRecord("apps.clinic.tasks", logging.INFO, __file__, 1, "oi", None, None)
    registro.task_name, registro.task_id, registro.agendamento_id = "t", "abc", 7
    linha = formatador.format(registro)
    contexto = r"\[task_name=t task_id=abc agendamento_id=7\]"
    assert re.fullmatch(r"\S+\+00:00 INFO apps\.clinic\.tasks \[\d+\] " + contexto + " oi", linha)


def test_a_database_errors_text_is_withheld_from_the_traceback_other_texts_are_kept(coletor):
    log = logging.getLogger("apps.clinic.services")
    cpf, nome = "529982" + "24725", "Maria " + "Sigilosa"  # not in the traceback's source lines
    try:
        try:
            raise sqlite3.IntegrityError(f"UNIQUE failed: Key (cpf)=({cpf}) already exists")
        except sqlite3.IntegrityError as causa:
            raise IntegrityError(f"Failing row contains ({nome})") from causa
    except IntegrityError:
        log.exception("could not save")
    try:
        raise ValueError("a plain bug, id 42")
    except ValueError:
        log.exception("other")
    banco, outro = _json(coletor)
    assert cpf not in banco["exc_info"] and nome not in banco["exc_info"]
    assert "django.db.utils.IntegrityError: <text withheld" in banco["exc_info"]
    assert "sqlite3.IntegrityError: <text withheld" in banco["exc_info"]
    assert "test_logs.py" in banco["exc_info"]  # the frames stay
    assert "ValueError: a plain bug, id 42" in outro["exc_info"]


def test_celerys_failure_line_withholds_a_database_errors_text(coletor):
    erro = IntegrityError("Key (cpf)=(52998224725) already exists")
    contexto = {
        "id": "t-1",
        "name": "apps.clinic.tasks.x",
        "exc": repr(erro),
        "description": "raised",
    }
    logging.getLogger("celery.app.trace").error(
        "Task %(name)s[%(id)s] %(description)s: %(exc)s",
        contexto,
        exc_info=(IntegrityError, erro, None),
        extra={"data": contexto},
    )
    (linha,) = _json(coletor)
    assert "52998224725" not in json.dumps(linha)
    assert linha["task_name"] == "apps.clinic.tasks.x" and linha["task_id"] == "t-1"


def test_every_line_within_a_task_carries_its_name_id_and_appointment_then_none(coletor):
    log = logging.getLogger("apps.clinic.tasks")
    tarefa = processar_agendamento_especifico
    logs.tarefa_iniciada(task_id="id-1", task=tarefa, args=(41,), kwargs={})
    log.info("inside")
    logs.tarefa_terminada(task_id="id-1")
    logs.tarefa_iniciada(task_id="id-2", task=tarefa, args=(), kwargs={"agendamento_id": 42})
    log.info("by keyword")
    logs.tarefa_terminada(task_id="id-2")
    log.info("outside")
    dentro, por_nome, fora = _json(coletor)
    assert dentro["task_name"] == "apps.clinic.tasks.processar_agendamento_especifico"
    assert (dentro["task_id"], dentro["agendamento_id"]) == ("id-1", 41)
    assert (por_nome["task_id"], por_nome["agendamento_id"]) == ("id-2", 42)
    assert not {"task_name", "task_id", "agendamento_id"} & fora.keys()


def test_a_task_published_while_serving_a_request_carries_its_request_id(coletor):
    from django_guid import clear_guid, set_guid

    set_guid("a" * 32)
    try:
        cabecalhos: dict = {}
        logs._request_id_na_mensagem(headers=cabecalhos)
    finally:
        clear_guid()
    assert cabecalhos == {"request_id": "a" * 32}
    # In the worker, Celery exposes the header on task.request.
    tarefa = SimpleNamespace(
        name="apps.clinic.tasks.x", request=SimpleNamespace(request_id="a" * 32), run=lambda: 0
    )
    logs.tarefa_iniciada(task_id="id-3", task=tarefa, args=(), kwargs={})
    logging.getLogger("apps.clinic.tasks").info("inside")
    logs.tarefa_terminada(task_id="id-3")
    (linha,) = _json(coletor)
    assert (linha["request_id"], linha["task_id"]) == ("a" * 32, "id-3")


@pytest.mark.django_db
def test_a_task_run_by_celery_logs_with_its_context(coletor, redis_url):
    # Celery's own signals (eager apply still sends task_prerun/task_postrun).
    # redis_url: apply() builds the app's result backend; it must be the session's.
    resultado = processar_agendamento_especifico.apply(args=(987654,), task_id="eager-1")
    assert resultado.get() is False
    linhas = [r for r in _json(coletor) if r["logger"] == "apps.clinic.tasks"]
    assert linhas and all(
        (r["task_id"], r["agendamento_id"]) == ("eager-1", 987654) for r in linhas
    )
    logging.getLogger("x").info("after")
    assert "task_id" not in _json(coletor)[-1]


@pytest.mark.django_db
def test_a_request_keeps_a_valid_incoming_request_id_returns_it_and_logs_it(client, coletor):
    proprio = "0123456789abcdef0123456789abcdef"
    resposta = client.get("/api/nao-existe/", HTTP_X_REQUEST_ID=proprio)
    assert resposta["X-Request-ID"] == proprio
    avisos = [r for r in _json(coletor) if r["logger"] == "django.request"]
    assert avisos and all(r["request_id"] == proprio for r in avisos)


@pytest.mark.django_db
def test_an_invalid_incoming_request_id_is_replaced_and_never_logged(client, coletor):
    resposta = client.get("/healthz", HTTP_X_REQUEST_ID="Maria Sigilosa 529.982.247-25")
    assert re.fullmatch(r"[0-9a-f]{32}", resposta["X-Request-ID"])
    resposta = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", resposta["X-Request-ID"])
    assert not any("Maria" in linha for linha in coletor.linhas)


def test_gunicorns_access_line_is_a_record_with_fields_and_no_query_string(coletor):
    from gunicorn.config import Config

    config = Config()
    config.set("accesslog", "/dev/null")
    logger = logs.LoggerGunicorn(config)
    try:
        resposta = SimpleNamespace(
            status="201 Created", headers=[("X-Request-ID", "f" * 32)], sent=512
        )
        ambiente = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/pacientes/",
            "QUERY_STRING": "search=Maria",
            "RAW_URI": "/api/pacientes/?search=Maria",
            "REMOTE_ADDR": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        logging.getLogger("gunicorn.access").addHandler(coletor)
        logger.access(resposta, SimpleNamespace(headers=[]), ambiente, timedelta(milliseconds=12))
    finally:
        logging.getLogger("gunicorn.access").handlers.clear()
        logging.getLogger("gunicorn.error").handlers.clear()
    (linha,) = [r for r in _json(coletor) if r["logger"] == "gunicorn.access"]
    assert linha["message"] == "POST /api/pacientes/ 201 12.0ms"
    assert linha["method"] == "POST" and linha["path"] == "/api/pacientes/"
    assert (linha["status"], linha["bytes"], linha["duration_ms"]) == (201, 512, 12.0)
    assert linha["request_id"] == "f" * 32 and linha["remote_addr"] == "127.0.0.1"
    assert "Maria" not in json.dumps(linha)


def test_the_settings_never_log_sql_and_celery_leaves_the_set_up_alone():
    from django.conf import settings

    assert settings.LOGGING["loggers"]["django.db.backends"]["level"] == "WARNING"
    assert settings.MIDDLEWARE[0] == "django_guid.middleware.guid_middleware"
    from celery.signals import setup_logging

    assert any(
        receptor() is logs.configurar_logging_do_celery
        for _chave, receptor in setup_logging.receivers
    )


@pytest.mark.celery_real
@pytest.mark.parametrize("formato", ["json", "text"])
def test_the_launcher_can_configure_logging_without_django_set_up(formato, tmp_path):
    # What core/launcher.py does: dictConfig(settings.LOGGING), no django.setup().
    codigo = (
        "import logging, logging.config\n"
        "from core import settings\n"
        "logging.config.dictConfig(settings.LOGGING)\n"
        "logging.getLogger('core.launcher').info('started web')\n"
        "from django.apps import apps\n"
        "assert not apps.ready\n"
    )
    feito = subprocess.run(
        [sys.executable, "-c", codigo],
        cwd=BASE_DIR,
        env={"LOG_FORMAT": formato, "NEXKODONTO_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert feito.returncode == 0, feito.stderr
    (linha,) = feito.stderr.splitlines()
    if formato == "json":
        registro = json.loads(linha)
        assert registro["logger"] == "core.launcher" and registro["message"] == "started web"
    else:
        assert re.fullmatch(r"\S+-03:00 INFO core\.launcher \[\d+\] started web", linha), linha


@pytest.mark.celery_real
def test_an_unknown_log_format_stops_the_start(tmp_path):
    feito = subprocess.run(
        [sys.executable, "-c", "import core.settings"],
        cwd=BASE_DIR,
        env={"LOG_FORMAT": "xml", "NEXKODONTO_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert feito.returncode != 0
    assert "LOG_FORMAT='xml'" in feito.stderr


def test_the_text_line_withholds_a_database_errors_text_even_if_another_handler_formatted_it():
    cpf = "529982" + "24725"
    try:
        raise IntegrityError(f"Key (cpf)=({cpf}) already exists")
    except IntegrityError:
        registro = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "falhou", None, sys.exc_info()
        )
    assert cpf in logging.Formatter().format(registro)  # a plain formatter caches the text
    linha = logs.FormatoTexto(fuso="UTC").format(registro)
    assert cpf not in linha and "IntegrityError: <text withheld" in linha


TOKEN = "eyJsIjoxLCJpIjoxNzY0NzY0MDAwfQ:1vQf3Z:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.mark.django_db
def test_a_confirmation_links_token_never_reaches_a_log_line(client, coletor):
    # Found reviewing issue 11: Django's own loggers name the request's path,
    # and the path of a reminder's link is its credential.
    from django.test import Client

    client.get(f"/confirmar/{TOKEN}/")  # refused (not signed by us): django.request logs a 4xx
    Client(enforce_csrf_checks=True).post(f"/confirmar/{TOKEN}/", {"acao": "confirmar"})  # CSRF
    logging.getLogger("django.request").warning("Not Found: %s", f"/confirmar/{TOKEN}/")
    logging.getLogger("gunicorn.access").info(
        "%s %s", "GET", f"/confirmar/{TOKEN}/", extra={"path": f"/confirmar/{TOKEN}/?x=1"}
    )
    linhas = "\n".join(coletor.linhas)
    assert "/confirmar/<token>/" in linhas
    assert TOKEN not in linhas and TOKEN.split(":")[0] not in linhas


def test_sem_tokens_keeps_every_other_path():
    assert logs.sem_tokens("GET /api/agendamentos/3/ 200") == "GET /api/agendamentos/3/ 200"
    assert logs.sem_tokens(f"x /confirmar/{TOKEN}/ y") == "x /confirmar/<token>/ y"
    assert logs.sem_tokens(f"/confirmar/{TOKEN}") == "/confirmar/<token>"
