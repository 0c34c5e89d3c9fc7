"""BROKER_URL: RabbitMQ as the Celery broker (docs/DEPLOY.md, "RabbitMQ").

The Celery integration tests themselves run on the machine's RabbitMQ in CI's
RabbitMQ pass (.ci/run). Here: the settings, a save with RabbitMQ unreachable,
and what changes for a worker killed mid-sweep (no visibility timeout).
"""

import json
import os
import signal
import time
import uuid

import pytest
from celery import Celery
from django.db import connection
from kombu import Connection

from apps.clinic.models import Agendamento

from .support import BIN, Proc, manage, porta_livre, process_env, wait_until
from .test_broker_fora import SALVAR
from .test_falhas import VARREDURA, _assert_cada_um_fechado_uma_vez, _backlog, _fechados

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]

# Never reached: the settings only name it.
REDIS_FICTICIO = "redis://127.0.0.1:6399/3"

CONFIGURACAO = """
import json
from django.conf import settings
from core.celery import app
print(json.dumps({
    "broker": app.conf.broker_url,
    "opcoes": app.conf.broker_transport_options,
    "resultados": app.conf.result_backend,
    "cache": settings.CACHES["default"]["LOCATION"],
}))
"""


def _configuracao(**env) -> dict:
    feito = manage("shell", "-c", CONFIGURACAO, env=process_env(redis_url=REDIS_FICTICIO, **env))
    return json.loads(feito.stdout.strip().splitlines()[-1])


def test_broker_url_moves_only_the_broker_and_drops_the_redis_transport_options():
    rabbit = "amqp://nexkodonto:senha@rabbit.invalid:5672/nexkodonto"
    conf = _configuracao(BROKER_URL=rabbit)
    assert conf["broker"] == rabbit
    # visibility_timeout and the socket options are the Redis transport's.
    assert conf["opcoes"] == {"confirm_publish": True}
    # Results stay in the database; the cache (and the sweep's lock, on the same URL) on Redis.
    assert conf["resultados"] == "django-db"
    assert conf["cache"] == REDIS_FICTICIO


def test_without_broker_url_the_broker_is_redis_url():
    conf = _configuracao()
    assert conf["broker"] == REDIS_FICTICIO
    assert "visibility_timeout" in conf["opcoes"]


def test_with_rabbitmq_unreachable_a_save_returns_quickly_and_logs_the_id_only(redis_url):
    env = process_env(
        redis_url=redis_url, BROKER_URL=f"amqp://guest:guest@127.0.0.1:{porta_livre()}//"
    )
    feito = manage("shell", "-c", SALVAR, env=env, timeout=60)
    resultado = json.loads(feito.stdout.strip().splitlines()[-1])
    print(f"save with RabbitMQ unreachable: {resultado['segundos']:.3f} s")
    assert resultado["segundos"] < 2.0
    assert Agendamento.objects.get(pk=resultado["id"]).active
    assert f"could not enqueue closing of appointment {resultado['id']}" in feito.stderr
    assert "Joana" not in feito.stderr


# CI's RabbitMQ (.ci/run starts it); BROKER_URL when it names one.
RABBITMQ = (
    os.environ["BROKER_URL"]
    if os.environ.get("BROKER_URL", "").startswith("amqp")
    else "amqp://guest:guest@127.0.0.1:5672//"
)


def _rabbitmq_responde() -> bool:
    try:
        with Connection(RABBITMQ, connect_timeout=2) as conexao:
            conexao.ensure_connection(max_retries=0)
        return True
    except Exception:  # noqa: BLE001 - any failure means "no RabbitMQ here"
        return False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="fault scenarios: PostgreSQL")
@pytest.mark.skipif(
    not _rabbitmq_responde(), reason=f"no RabbitMQ answers at {RABBITMQ} (.ci/run starts one)"
)
def test_a_whole_worker_killed_mid_sweep_on_rabbitmq_is_redelivered_at_once(redis_url, tmp_path):
    # On Redis this waits for CELERY_VISIBILITY_TIMEOUT (test_falhas.py::test_3 shortens
    # it to 30 s); here it is left at 3600 s: only RabbitMQ's redelivery can pass in time.
    ids = _backlog(20_000)
    env = process_env(redis_url=redis_url, BROKER_URL=RABBITMQ, FINALIZACAO_TAMANHO_LOTE="200")
    produtor = Celery("rabbitmq", set_as_current=False)
    produtor.config_from_object("django.conf:settings", namespace="CELERY")
    produtor.conf.broker_url = RABBITMQ
    produtor.conf.broker_transport_options = {"confirm_publish": True}

    def worker(nome: str) -> Proc:
        proc = Proc(
            nome,
            [str(BIN / "celery"), "-A", "core", "worker", "-Q", "varredura", "--concurrency", "1"]
            + ["--without-mingle", "--without-gossip", "--loglevel", "INFO"]
            + ["--hostname", f"{nome}-{uuid.uuid4().hex[:6]}@%h"],
            env,
            tmp_path,
        )
        proc.wait_for_output(" ready.", timeout=60)
        return proc

    primeiro = worker("rabbit-1")
    segundo = None
    try:
        produtor.control.purge()  # messages of earlier runs name rows that no longer exist
        produtor.send_task(VARREDURA)
        wait_until(lambda: _fechados() >= 2_000, timeout=60, what="the sweep to be under way")
        os.killpg(primeiro.pid, signal.SIGKILL)
        primeiro.popen.wait()
        parcial = _fechados()
        assert parcial < len(ids), "the sweep finished before the kill: nothing was tested"
        inicio = time.monotonic()
        segundo = worker("rabbit-2")
        wait_until(
            lambda: _fechados() == len(ids),
            timeout=120,
            interval=0.5,
            what="the redelivered sweep to close the rest",
        )
        print(
            f"RabbitMQ: killed at {parcial} of {len(ids)}; all closed "
            f"{time.monotonic() - inicio:.1f} s after the new worker started"
        )
        _assert_cada_um_fechado_uma_vez(ids)
        assert "taken over by its own owner" in segundo.output()
    finally:
        if segundo is not None:
            segundo.stop()
        produtor.close()
