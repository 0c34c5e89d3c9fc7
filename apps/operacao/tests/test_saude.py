"""/health/live and /health/ready in-process: each check red and green, with its reason.

The broker and cache are Redis servers of these tests' own (conftest.py);
the worker ping is replaced by a fake reply here (the real workers are in
test_saude_processos.py). Every test runs at a fixed instant (``AGORA``).
"""

from __future__ import annotations

import json
import logging
import socket
import time
from contextlib import contextmanager
from datetime import timedelta

import celery
import django
import pytest
import time_machine
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client, override_settings
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.clinic import services
from apps.clinic.models import ExecucaoVarredura
from apps.clinic.tests.relogio import AGORA
from apps.operacao import deadman
from core.celery import app as celery_app

pytestmark = pytest.mark.django_db

# What must never be in an answer: versions, hosts, ports, paths, exception texts.
INTERNOS = [
    django.get_version(),
    celery.__version__,
    "127.0.0.1",
    "localhost",
    socket.gethostname(),
    "/work",
    "/tmp",
    "Traceback",
    "Error",
    "refused",
    "celery@",
]


@pytest.fixture(autouse=True)
def relogio():
    with time_machine.travel(AGORA, tick=False):
        yield


@pytest.fixture(autouse=True)
def processo_iniciado_ha_muito():
    """The web process started long ago: no grace period unless a test sets one."""
    antes = deadman.INICIO_DO_PROCESSO
    deadman.INICIO_DO_PROCESSO = AGORA - timedelta(days=30)
    deadman._alerta_local["ativo"] = False
    yield
    deadman.INICIO_DO_PROCESSO = antes


@pytest.fixture
def workers(monkeypatch):
    """The Celery ping's reply: set ``workers.resposta`` (a list, or an exception to raise)."""

    class Workers:
        resposta: object = [{"w1@maquina-interna": {"ok": "pong"}}]

    def ping(timeout=None, limit=None, connection=None, **kwargs):
        assert timeout <= 2 and limit == 1  # the probe's short budget, first reply wins
        assert connection is not None  # the one made without retries
        if isinstance(Workers.resposta, Exception):
            raise Workers.resposta
        return Workers.resposta

    monkeypatch.setattr(celery_app.control, "ping", ping)
    return Workers


def _agenda_intervalo(segundos: int) -> PeriodicTask:
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    tarefa.crontab = None
    tarefa.interval, _ = IntervalSchedule.objects.get_or_create(
        every=segundos, period=IntervalSchedule.SECONDS
    )
    tarefa.save()
    return tarefa


def _agenda_crontab(minuto="0", hora="*", dia_semana="*") -> PeriodicTask:
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    tarefa.interval = None
    tarefa.crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minuto,
        hour=hora,
        day_of_week=dia_semana,
        day_of_month="*",
        month_of_year="*",
        timezone="America/Sao_Paulo",
    )
    tarefa.save()
    return tarefa


def _execucao(ha: timedelta, resultado=ExecucaoVarredura.Resultado.CONCLUIDA):
    return ExecucaoVarredura.objects.create(
        iniciada_em=AGORA - ha, terminada_em=AGORA - ha, resultado=resultado
    )


def _pronto(client) -> tuple[int, dict, str]:
    resposta = client.get("/health/ready")
    texto = resposta.content.decode()
    assert resposta["Content-Type"] == "application/json"
    for interno in INTERNOS:
        assert interno not in texto, f"{interno!r} in the answer: {texto}"
    return resposta.status_code, json.loads(texto), texto


# --- live -------------------------------------------------------------------------------


@pytest.mark.parametrize("caminho", ["/health/live", "/healthz"])
def test_live_answers_ok_without_login_nor_database(client, caminho, django_assert_num_queries):
    with django_assert_num_queries(0):
        resposta = client.get(caminho)
    assert resposta.status_code == 200
    assert resposta.json() == {"status": "ok"}
    assert "no-store" in resposta["Cache-Control"]


@pytest.mark.parametrize("caminho", ["/health/live", "/healthz", "/health/ready"])
@pytest.mark.parametrize("metodo", ["post", "put", "delete", "patch"])
def test_a_health_page_answers_other_methods_with_a_json_405(caminho, metodo):
    # A CSRF-enforcing client: a POST must get the 405, not the CSRF middleware's HTML 403.
    cliente = Client(enforce_csrf_checks=True)
    resposta = getattr(cliente, metodo)(caminho)
    assert resposta.status_code == 405
    assert resposta["Content-Type"] == "application/json"
    assert resposta["Allow"] == "GET, HEAD"
    assert resposta.json()["code"] == "metodo_nao_permitido"


@pytest.mark.parametrize("caminho", ["/health/live", "/health/ready"])
def test_a_health_page_answers_head(client, caminho, broker, workers):
    _agenda_intervalo(60)
    _execucao(ha=timedelta(seconds=5))
    assert client.head(caminho).status_code == 200


# --- ready: all green -------------------------------------------------------------------


def test_ready_is_green_with_database_broker_a_worker_and_a_recent_sweep(client, broker, workers):
    _agenda_intervalo(60)
    _execucao(timedelta(seconds=30))

    status, corpo, _texto = _pronto(client)

    assert status == 200, corpo
    assert corpo["status"] == "ok"
    assert {nome: v["status"] for nome, v in corpo["verificacoes"].items()} == {
        "banco": "ok",
        "broker": "ok",
        "politica_de_memoria_do_broker": "ok",
        "trabalhadores": "ok",
        "varredura": "ok",
    }
    varredura = corpo["verificacoes"]["varredura"]
    assert varredura["codigo"] == "em_dia"
    assert varredura["periodo_segundos"] == 60
    assert varredura["ultima_execucao"] == (AGORA - timedelta(seconds=30)).isoformat()
    assert varredura["prazo"] == (AGORA + timedelta(seconds=90)).isoformat()


# --- database -----------------------------------------------------------------------------


def test_a_database_error_is_red_without_its_text(client, broker, workers, monkeypatch):
    _execucao(timedelta(minutes=1))

    @contextmanager
    def falha(self):
        raise OperationalError(
            'connection to server at "10.9.8.7", port 5432 failed: FATAL: password authentication'
        )
        yield

    # The check runs in a thread of its own, on that thread's connection object.
    monkeypatch.setattr(BaseDatabaseWrapper, "temporary_connection", falha)
    status, corpo, texto = _pronto(client)

    assert status == 503
    assert corpo["verificacoes"]["banco"] == {
        "status": "erro",
        "codigo": "banco_indisponivel",
        "motivo": "Banco de dados indisponível.",
    }
    assert "10.9.8.7" not in texto and "5432" not in texto and "password" not in texto


def test_with_the_database_down_the_sweep_is_not_judged_and_no_crash_is_logged(
    client, broker, workers, monkeypatch, caplog
):
    def falha(**kwargs):
        raise OperationalError('could not connect to server "10.9.8.7"')

    monkeypatch.setattr(deadman, "avaliar", falha)
    status, corpo, _texto = _pronto(client)

    assert status == 503
    assert corpo["verificacoes"]["varredura"] == {
        "status": "erro",
        "codigo": "varredura_nao_verificada",
        "motivo": "Não foi possível verificar a varredura.",
    }
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- broker -----------------------------------------------------------------------------


def test_a_stopped_broker_is_red_at_once(client, broker, url_parada):
    _execucao(timedelta(minutes=1))
    broker(url_parada)
    inicio = time.monotonic()
    status, corpo, texto = _pronto(client)
    duracao = time.monotonic() - inicio

    assert status == 503
    assert corpo["verificacoes"]["broker"]["codigo"] == "broker_indisponivel"
    # No worker can be reached either, and the ping does not wait for its retries.
    assert corpo["verificacoes"]["trabalhadores"]["codigo"] == "nenhum_worker"
    # The eviction policy cannot be read either: unknown, a warning, not a second red.
    assert corpo["verificacoes"]["politica_de_memoria_do_broker"]["status"] == "aviso"
    assert url_parada.rsplit(":", 1)[1].split("/")[0] not in texto  # the port
    # The real ping, not waiting out its publish retries (~7 s) nor the check's timeout (2 s).
    assert duracao < 1.5, duracao


def test_an_amqp_broker_that_refuses_the_connection_is_red_with_no_policy_check(
    client, broker, workers, url_parada
):
    _execucao(timedelta(minutes=1))
    porta = url_parada.rsplit(":", 1)[1].split("/")[0]
    broker(f"amqp://guest:guest@127.0.0.1:{porta}//")

    status, corpo, _texto = _pronto(client)

    assert status == 503
    assert corpo["verificacoes"]["broker"]["codigo"] == "broker_indisponivel"
    assert "politica_de_memoria_do_broker" not in corpo["verificacoes"]  # Redis only


def test_an_evicting_broker_is_reported_but_ready_stays_green(
    client, broker, workers, servidores_redis
):
    _execucao(timedelta(minutes=1))
    broker(servidores_redis["evicta"].url)

    status, corpo, _texto = _pronto(client)

    assert status == 200
    assert corpo["verificacoes"]["politica_de_memoria_do_broker"] == {
        "status": "aviso",
        "codigo": "broker_pode_descartar_tarefas",
        "motivo": "O broker descarta chaves quando a memória acaba (maxmemory-policy "
        "diferente de noeviction): tarefas na fila podem se perder.",
    }


def test_a_broker_that_refuses_config_get_gives_an_unknown_policy_not_red(
    client, broker, workers, servidores_redis
):
    _execucao(timedelta(minutes=1))
    broker(servidores_redis["sem_config"].url)

    status, corpo, _texto = _pronto(client)

    assert status == 200
    assert corpo["verificacoes"]["broker"]["status"] == "ok"
    assert corpo["verificacoes"]["politica_de_memoria_do_broker"]["codigo"] == (
        "politica_desconhecida"
    )


# --- workers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "resposta",
    [
        [],  # nobody answered in time
        [{"w1@maquina-interna": {"error": "busy"}}],  # the library's message names the worker
        OSError("[Errno 111] Connection refused to 10.9.8.7"),
    ],
    ids=["none", "wrong-reply", "broker-error"],
)
def test_no_worker_answering_the_ping_is_red_without_naming_anything(
    client, broker, workers, resposta
):
    _execucao(timedelta(minutes=1))
    workers.resposta = resposta

    status, corpo, texto = _pronto(client)

    assert status == 503
    assert corpo["verificacoes"]["trabalhadores"] == {
        "status": "erro",
        "codigo": "nenhum_worker",
        "motivo": "Nenhum worker do Celery respondeu.",
    }
    assert "maquina-interna" not in texto and "10.9.8.7" not in texto


# --- the sweep's dead-man check ---------------------------------------------------------


def test_a_sweep_older_than_two_interval_periods_is_red(client, broker, workers):
    _agenda_intervalo(60)
    _execucao(timedelta(seconds=121))

    status, corpo, _texto = _pronto(client)

    assert status == 503
    varredura = corpo["verificacoes"]["varredura"]
    assert varredura["status"] == "erro"
    assert varredura["codigo"] == "varredura_atrasada"
    assert varredura["prazo"] == (AGORA - timedelta(seconds=1)).isoformat()


@pytest.mark.parametrize(
    ("ha_minutos", "verde"),
    [(59, True), (119, True), (121, False)],
)
def test_an_hourly_crontab_is_late_after_the_second_hour_mark_since_the_last_run(
    client, broker, workers, ha_minutos, verde
):
    # AGORA is 10:00. A run started at 08:01 (or 09:01) was due again at 09:00
    # (10:00), and that one must have started by the next mark, 10:00 (11:00):
    # still green. A run at 07:59: the 08:00 run had until 09:00, so red.
    _agenda_crontab("0")
    _execucao(timedelta(minutes=ha_minutos))

    status, corpo, _texto = _pronto(client)

    assert (status == 200) is verde, corpo
    assert corpo["verificacoes"]["varredura"]["periodo_segundos"] == 3600


def test_a_disabled_or_missing_sweep_entry_is_red(client, broker, workers):
    _execucao(timedelta(seconds=1))
    tarefa = _agenda_intervalo(60)
    tarefa.enabled = False
    tarefa.save()

    status, corpo, _texto = _pronto(client)
    assert status == 503
    assert corpo["verificacoes"]["varredura"]["codigo"] == "agenda_desativada"

    tarefa.delete()
    status, corpo, _texto = _pronto(client)
    assert corpo["verificacoes"]["varredura"]["codigo"] == "agenda_ausente"


@pytest.mark.parametrize(
    ("resultado", "codigo"),
    [
        (ExecucaoVarredura.Resultado.FALHOU, "varredura_falhando"),
        (ExecucaoVarredura.Resultado.PULADA, "varredura_bloqueada"),
    ],
)
def test_runs_that_fail_or_are_skipped_for_the_lock_do_not_count_as_alive(
    client, broker, workers, resultado, codigo
):
    _agenda_intervalo(60)
    _execucao(timedelta(minutes=10))
    for segundos in (50, 20, 5):
        _execucao(timedelta(seconds=segundos), resultado)

    status, corpo, _texto = _pronto(client)

    assert status == 503
    assert corpo["verificacoes"]["varredura"]["codigo"] == codigo


def test_a_run_in_progress_counts_as_alive(client, broker, workers):
    _agenda_intervalo(60)
    ExecucaoVarredura.objects.create(iniciada_em=AGORA - timedelta(seconds=100))

    status, corpo, _texto = _pronto(client)

    assert status == 200, corpo


def test_before_the_first_run_ever_it_is_green_for_two_periods_after_start_up(
    client, broker, workers
):
    _agenda_intervalo(60)
    deadman.INICIO_DO_PROCESSO = AGORA - timedelta(seconds=100)

    status, corpo, _texto = _pronto(client)
    assert status == 200
    assert corpo["verificacoes"]["varredura"]["codigo"] == "aguardando_primeira_execucao"
    assert corpo["verificacoes"]["varredura"]["ultima_execucao"] is None

    deadman.INICIO_DO_PROCESSO = AGORA - timedelta(seconds=121)
    status, corpo, _texto = _pronto(client)
    assert status == 503
    assert corpo["verificacoes"]["varredura"]["codigo"] == "nenhuma_execucao"


# --- logged once per outage --------------------------------------------------------------


def _registros(caplog, nivel):
    return [r for r in caplog.records if r.name == "apps.operacao.deadman" and r.levelno == nivel]


def test_the_outage_is_logged_at_error_once_and_the_recovery_at_info_once(
    client, broker, workers, caplog
):
    _agenda_intervalo(60)
    velha = _execucao(timedelta(minutes=5))
    caplog.set_level(logging.INFO, logger="apps.operacao.deadman")

    for _ in range(3):
        assert _pronto(client)[0] == 503
    # Another web process (its own memory, the same cache) probing the same outage.
    deadman._alerta_local["ativo"] = False
    assert _pronto(client)[0] == 503

    assert len(_registros(caplog, logging.ERROR)) == 1
    assert "varredura_atrasada" in _registros(caplog, logging.ERROR)[0].getMessage()
    assert not _registros(caplog, logging.INFO)
    # No 5xx line per probe from Django's request logger either.
    assert not [r for r in caplog.records if r.name == "django.request"]

    velha.delete()
    _execucao(timedelta(seconds=5))
    for _ in range(3):
        assert _pronto(client)[0] == 200
    assert len(_registros(caplog, logging.INFO)) == 1
    assert len(_registros(caplog, logging.ERROR)) == 1


def test_with_the_cache_down_each_process_still_logs_the_outage_only_once(
    client, broker, workers, caplog, url_parada
):
    _agenda_intervalo(60)
    _execucao(timedelta(minutes=5))
    caplog.set_level(logging.INFO, logger="apps.operacao.deadman")
    fora = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url_parada,
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=fora):
        for _ in range(3):
            assert _pronto(client)[0] == 503

    assert len(_registros(caplog, logging.ERROR)) == 1
