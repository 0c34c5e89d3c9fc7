"""A broker blip while the sweep runs never stops the workers (issue 10, item 1).

Each test starts its own redis-server on its own port (``RedisProprio``) and a
real ``celery worker``, starts a sweep on a backlog large enough to run for
several seconds, and cuts Redis under it: a restart (stopped, then started on
the same port) or a network cut (the server kills the worker's connections).
Afterwards an appointment saved through the service must be closed by the
worker within seconds, and every row of the backlog closed exactly once.
Runs on PostgreSQL (``DATABASE_URL``) and on the embedded SQLite.
See docs/RELIABILITY.md, "Broker blips".
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from datetime import timedelta

import pytest
from celery import Celery
from django.db.models import Count
from django.utils import timezone

from apps.clinic.models import Agendamento, Atendimento, HistoricoStatus

from .factories import DentistaFactory, PacienteFactory
from .support import BIN, Proc, RedisProprio, process_env, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]

VARREDURA = "apps.clinic.tasks.verificar_e_finalizar_agendamentos_passados"
UM = "apps.clinic.tasks.processar_agendamento_especifico"
BACKLOG = 30_000
# Small batches: the sweep of the backlog runs for several seconds, so the
# blip lands while it runs (a batch is one transaction).
LOTE = "100"


@pytest.fixture
def redis_proprio():
    servidor = RedisProprio()
    servidor.iniciar()
    yield servidor
    servidor.parar()


@pytest.fixture
def produtor(redis_proprio):
    """A producer bound to the test's own Redis (send_task by name), not the current app."""
    app = Celery("blip", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = app.conf.result_backend = redis_proprio.url
    yield app
    app.close()


@pytest.fixture
def worker(redis_proprio, tmp_path):
    """A real ``celery -A core worker`` (2 processes) on the test database and own Redis."""
    proc = Proc(
        "worker",
        [
            str(BIN / "celery"),
            "-A",
            "core",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"blip-{uuid.uuid4().hex[:6]}@%h",
        ],
        process_env(redis_url=redis_proprio.url, FINALIZACAO_TAMANHO_LOTE=LOTE),
        tmp_path,
    )
    proc.wait_for_output(" ready.", timeout=60)
    yield proc
    if proc.popen.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.popen.wait()


def _backlog(n: int, *, dias: int = 0) -> list[int]:
    """``n`` due appointments, ``dias`` (default: enough) days back; their ids.

    bulk_create sends no post_save: nothing is published for them.
    """
    paciente, dentista = PacienteFactory(), DentistaFactory()
    inicio = timezone.now() - timedelta(days=dias or n // 48 + 2)
    criados = Agendamento.objects.bulk_create(
        (
            Agendamento(
                paciente=paciente, dentista=dentista, data_hora=inicio + timedelta(minutes=30 * i)
            )
            for i in range(n)
        ),
        batch_size=2000,
    )
    ids = [agendamento.pk for agendamento in criados]
    assert None not in ids  # PostgreSQL and SQLite >= 3.35 return the new ids
    return ids


def _fechados() -> int:
    return Agendamento.objects.filter(status="concluido").count()


def _cada_um_fechado_uma_vez(ids: list[int]) -> None:
    assert not Agendamento.objects.filter(pk__in=ids, active=True).exists()
    assert Atendimento.objects.filter(agendamento_id__in=ids).count() == len(ids)
    fechamentos = HistoricoStatus.objects.filter(agendamento_id__in=ids, status_novo="concluido")
    assert fechamentos.count() == len(ids)
    assert not fechamentos.values("agendamento_id").annotate(n=Count("id")).filter(n__gt=1)


def _sweep_under_way(produtor) -> None:
    produtor.send_task(VARREDURA)
    wait_until(lambda: _fechados() >= 500, timeout=60, what="the sweep to be under way")


def _save_after_the_blip_is_closed(produtor, worker, ids: list[int]) -> None:
    """The backlog closed once each; then a past appointment saved now is closed within seconds.

    The save is published by the test's producer (the same message the
    post_save signal sends, on the test's own Redis) after the sweep ended, so
    only a worker that consumes again can close it.
    """
    wait_until(
        lambda: "sweep closed" in worker.output() or worker.popen.poll() is not None,
        timeout=120,
        interval=0.2,
        what="the sweep to end",
    )
    assert worker.popen.poll() is None, worker.output()[-3000:]
    _cada_um_fechado_uma_vez(ids)

    depois = _backlog(1, dias=1)[0]
    task_id = str(uuid.uuid4())
    inicio = time.monotonic()
    produtor.send_task(UM, args=[depois], task_id=task_id)
    wait_until(
        lambda: Atendimento.objects.filter(agendamento_id=depois).exists(),
        timeout=20,
        interval=0.1,
        what="the worker to close an appointment saved after the blip",
    )
    print(f"appointment saved after the blip closed in {time.monotonic() - inicio:.2f} s")
    assert HistoricoStatus.objects.get(agendamento_id=depois, status_novo="concluido").task_id == (
        task_id
    )
    # One sweep run, not a second copy started by a requeue of the running one.
    assert worker.output().count("sweep closed") == 1
    assert "taken over by its own owner" not in worker.output()
    assert "Unrecoverable error" not in worker.output()
    assert worker.popen.poll() is None


def test_a_redis_restart_during_a_long_sweep_leaves_the_worker_consuming(
    redis_proprio, produtor, worker
):
    ids = _backlog(BACKLOG)
    _sweep_under_way(produtor)

    redis_proprio.parar()
    wait_until(
        lambda: "Connection to broker lost" in worker.output(),
        timeout=30,
        what="the worker to see the broker gone",
    )
    redis_proprio.iniciar()
    assert _fechados() < len(ids), "the sweep ended before the blip: nothing was tested"
    print(f"restart: {_fechados()} of {len(ids)} closed when Redis came back")

    _save_after_the_blip_is_closed(produtor, worker, ids)


def test_a_network_cut_of_the_workers_connections_during_a_long_sweep_leaves_it_consuming(
    redis_proprio, produtor, worker
):
    ids = _backlog(BACKLOG)
    _sweep_under_way(produtor)

    # The server drops every client connection but this one: what the worker
    # sees of a cut network or a proxy/failover reset, with Redis itself up.
    mortas = redis_proprio.cliente().client_kill_filter(_type="normal", skipme=True)
    mortas += redis_proprio.cliente().client_kill_filter(_type="pubsub", skipme=True)
    assert mortas >= 1
    wait_until(
        lambda: "Connection to broker lost" in worker.output(),
        timeout=30,
        what="the worker to see its connections cut",
    )
    assert _fechados() < len(ids), "the sweep ended before the cut: nothing was tested"
    print(f"cut: {mortas} connections killed with {_fechados()} of {len(ids)} closed")

    _save_after_the_blip_is_closed(produtor, worker, ids)
