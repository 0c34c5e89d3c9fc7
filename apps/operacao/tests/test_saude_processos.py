"""/health/ready against real processes: gunicorn, a Celery worker and beat, their own Redis.

The sweep's schedule is an interval of a few seconds (set in its PeriodicTask,
as an admin would); stopping beat turns readiness red within two periods,
stopping every worker turns it red at once (the ping), and starting them
again turns it green.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.conf import settings
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.clinic import services
from apps.clinic.tests.support import BIN, Proc, porta_livre, process_env, wait_until

from .conftest import ServidorRedis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]

PERIODO = 3  # seconds between two sweeps


def _pronto(porta: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{porta}/health/ready", timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as erro:
        return erro.code, json.loads(erro.read())
    except (urllib.error.URLError, ConnectionError):
        return 0, {}


@pytest.fixture
def pilha(tmp_path):
    """Start and stop worker, beat and gunicorn on a Redis of this test's own."""
    redis = ServidorRedis()
    env = process_env(redis_url=redis.url)
    iniciados: list[Proc] = []

    def worker() -> Proc:
        proc = Proc(
            f"worker-{len(iniciados)}",
            [str(BIN / "celery"), "-A", "core", "worker", "--loglevel", "INFO"]
            + ["--concurrency", "1", "--without-mingle", "--without-gossip"]
            + ["--hostname", f"saude-{uuid.uuid4().hex[:6]}@%h"],
            env,
            tmp_path,
        )
        iniciados.append(proc)
        proc.wait_for_output(" ready.", timeout=60)
        return proc

    def beat() -> Proc:
        proc = Proc(
            f"beat-{len(iniciados)}",
            [str(BIN / "celery"), "-A", "core", "beat", "--loglevel", "INFO", "--pidfile", ""]
            + ["--schedule", str(tmp_path / f"beat-{uuid.uuid4().hex}")],
            env,
            tmp_path,
        )
        iniciados.append(proc)
        proc.wait_for_output("beat: Starting", timeout=60)
        return proc

    def web() -> int:
        porta = porta_livre()
        proc = Proc(
            "web",
            [str(BIN / "gunicorn"), "core.wsgi", "--bind", f"127.0.0.1:{porta}"]
            + ["--workers", "2", "--no-control-socket"],
            env,
            tmp_path,
        )
        iniciados.append(proc)
        wait_until(lambda: _pronto(porta)[0] in (200, 503), timeout=60, what="gunicorn")
        return porta

    pilha = type("Pilha", (), {"worker": worker, "beat": beat, "web": web, "log": tmp_path})
    yield pilha
    for proc in reversed(iniciados):
        proc.stop(timeout=20)
    redis.parar()


def _esperar(porta: int, condicao, *, timeout: float, what: str) -> tuple[float, dict]:
    """Poll /health/ready until ``condicao(status, body)``; return (seconds waited, body)."""
    inicio = time.monotonic()
    visto: dict = {}

    def ok():
        status, corpo = _pronto(porta)
        visto["ultimo"] = (status, corpo)
        return condicao(status, corpo)

    try:
        wait_until(ok, timeout=timeout, interval=0.25, what=what)
    except AssertionError as erro:
        raise AssertionError(f"{erro}; last answer: {visto.get('ultimo')}") from None
    return time.monotonic() - inicio, visto["ultimo"][1]


def _verde(status, corpo) -> bool:
    return status == 200 and corpo["verificacoes"]["varredura"]["codigo"] == "em_dia"


def _codigo(verificacao: str, codigo: str):
    def condicao(status, corpo) -> bool:
        return status == 503 and corpo["verificacoes"][verificacao].get("codigo") == codigo

    return condicao


def test_ready_follows_beat_and_the_workers(pilha):
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    tarefa.crontab = None
    tarefa.interval, _ = IntervalSchedule.objects.get_or_create(
        every=PERIODO, period=IntervalSchedule.SECONDS
    )
    tarefa.save()
    worker = pilha.worker()
    beat = pilha.beat()
    porta = pilha.web()

    # Green once a sweep has run on schedule; the ping returns at the first reply.
    _esperar(porta, _verde, timeout=60, what="ready green with a sweep on schedule")
    duracoes = []
    for _ in range(5):
        inicio = time.monotonic()
        assert _pronto(porta)[0] == 200
        duracoes.append(time.monotonic() - inicio)
    print(f"green probe: {min(duracoes) * 1000:.0f}-{max(duracoes) * 1000:.0f} ms")
    assert min(duracoes) < settings.SAUDE_TIMEOUT_SEGUNDOS

    # Beat stops: red within two periods of its last sweep.
    beat.stop()
    segundos, corpo = _esperar(
        porta,
        _codigo("varredura", "varredura_atrasada"),
        timeout=4 * PERIODO + 10,
        what="ready red after beat stopped",
    )
    print(f"beat stopped: red after {segundos:.1f} s (period {PERIODO} s)")
    assert segundos <= 2 * PERIODO + 2, segundos
    assert corpo["verificacoes"]["trabalhadores"]["status"] == "ok"

    # Beat is back: green again.
    beat = pilha.beat()
    segundos, _ = _esperar(porta, _verde, timeout=30, what="ready green after beat restarted")
    print(f"beat restarted: green after {segundos:.1f} s")

    # Every worker stops: red at once on the ping.
    worker.stop()
    segundos, _ = _esperar(
        porta,
        _codigo("trabalhadores", "nenhum_worker"),
        timeout=15,
        what="ready red after the worker stopped",
    )
    print(f"worker stopped: red after {segundos:.1f} s")

    # A worker is back: green.
    pilha.worker()
    segundos, _ = _esperar(porta, _verde, timeout=30, what="ready green after a worker started")
    print(f"worker restarted: green after {segundos:.1f} s")

    # Two web processes probed each outage many times; each start and end was
    # logged once (the worker's absence may also have made the sweep late: a
    # second outage, logged once too).
    web_log = (pilha.log / "web.log").read_text()
    vermelhos = web_log.count("dead-man check red")
    assert 1 <= vermelhos <= 2, web_log[-3000:]
    assert web_log.count("dead-man check green again") == vermelhos, web_log[-3000:]
    assert "Service Unavailable: /health/ready" not in web_log
