"""The sweep's lock (core/locks.py): short-lived, renewed by its holder (issue 10, item 1).

Against a redis-server of the test's own (``RedisProprio``, with AOF so a
restart keeps the lock as production's Redis would). The lock's life is a
few seconds here (``SWEEP_LOCK_TTL``); Redis' expiry reads the real clock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.clinic.models import Agendamento
from apps.clinic.tasks import verificar_e_finalizar_agendamentos_passados as varredura
from core.locks import lock_exclusivo

from .factories import AgendamentoFactory
from .support import BASE_DIR, RedisProprio, process_env, wait_until

NOME = "verificar_e_finalizar_agendamentos_passados"
CHAVE = f"nexkodonto:lock:{NOME}"
TTL = 3


@pytest.fixture
def redis_do_lock(settings, redis_url):
    # redis_url first: the session's Celery app points at the session Redis
    # before an eager apply() here builds (and caches) its result backend.
    servidor = RedisProprio(persistente=True)
    servidor.iniciar()
    settings.REDIS_URL = servidor.url
    settings.SWEEP_LOCK_TTL = TTL
    yield servidor
    servidor.parar()


def _obtem(dono: str) -> bool:
    with lock_exclusivo(NOME, expira_em_segundos=TTL, dono=dono) as obtido:
        return obtido


def test_a_lock_shorter_than_three_seconds_is_refused(redis_do_lock):
    with pytest.raises(ValueError, match="at least 3"), lock_exclusivo(NOME, expira_em_segundos=2):
        pass


def test_the_holder_renews_its_lock_for_a_run_several_times_longer_than_its_life(redis_do_lock):
    with lock_exclusivo(NOME, expira_em_segundos=TTL, dono="longa") as obtido:
        assert obtido
        fim = time.monotonic() + 3 * TTL
        # Polled for three lives of the lock: nobody else gets it meanwhile.
        while time.monotonic() < fim:
            assert not _obtem("outra")
            assert redis_do_lock.cliente().get(CHAVE) == b"longa"
            time.sleep(0.2)  # sampling period of the observation
    # Released at the end: the next run gets it at once.
    assert redis_do_lock.cliente().get(CHAVE) is None
    assert _obtem("outra")


@pytest.mark.django_db
def test_a_release_lost_to_a_redis_outage_blocks_the_next_sweep_for_at_most_the_short_life(
    redis_do_lock, caplog
):
    ag = AgendamentoFactory(data_hora=timezone.now() - timedelta(hours=2))
    with lock_exclusivo(NOME, expira_em_segundos=TTL, dono="primeira") as obtido:
        assert obtido
        redis_do_lock.parar()  # the sweep ends while Redis is down
    assert "not released" in caplog.text  # logged, not raised: the sweep's work stands
    redis_do_lock.iniciar()
    voltou = time.monotonic()

    # The lock survived the restart (AOF), so the next sweep is skipped...
    assert redis_do_lock.cliente().get(CHAVE) == b"primeira"
    assert varredura.apply(task_id="seguinte").get() is None
    # ...but only until the short life runs out, not for the old 17 minutes.
    wait_until(
        lambda: varredura.apply(task_id="seguinte").get() == 1,
        timeout=TTL + 2,
        interval=0.2,
        what="the next sweep to run once the lost lock expired",
    )
    print(f"next sweep ran {time.monotonic() - voltou:.1f} s after Redis came back")
    assert not Agendamento.objects.get(pk=ag.pk).active


def _titular_em_outro_processo(redis_url: str, dono: str) -> subprocess.Popen:
    """A process that takes the lock as ``dono`` and holds it (renewing) until killed."""
    codigo = (
        "import sys, threading\n"
        "from core.locks import lock_exclusivo\n"
        f"with lock_exclusivo({NOME!r}, expira_em_segundos={TTL}, dono={dono!r}) as obtido:\n"
        "    print('held' if obtido else 'not held', flush=True)\n"
        "    threading.Event().wait()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", codigo],
        cwd=BASE_DIR,
        env=process_env(redis_url=redis_url),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


@pytest.mark.celery_real
def test_a_holder_killed_with_sigkill_blocks_others_for_at_most_the_short_life(redis_do_lock):
    titular = _titular_em_outro_processo(redis_do_lock.url, "morta")
    # Alive, it keeps the lock past its life.
    wait_until(
        lambda: (
            redis_do_lock.cliente().pttl(CHAVE) > (TTL - 0.5) * 1000
            and redis_do_lock.cliente().object("idletime", CHAVE) is not None
        ),
        timeout=5,
        what="the holder to hold the lock",
    )
    os.kill(titular.pid, signal.SIGKILL)
    titular.wait()
    morta = time.monotonic()
    assert not _obtem("outra")
    wait_until(lambda: _obtem("outra"), timeout=TTL + 1, interval=0.1, what="the lock to expire")
    print(f"lock free {time.monotonic() - morta:.1f} s after its holder was SIGKILLed")


@pytest.mark.celery_real
def test_a_redelivery_with_the_same_task_id_takes_over_the_lock_of_its_killed_run(
    redis_do_lock,
):
    titular = _titular_em_outro_processo(redis_do_lock.url, "tarefa-123")
    os.kill(titular.pid, signal.SIGKILL)
    titular.wait()
    # Another id still waits for the expiry; the same id goes ahead at once, and renews.
    assert not _obtem("outra")
    with lock_exclusivo(NOME, expira_em_segundos=TTL, dono="tarefa-123") as obtido:
        assert obtido
        renovado = time.monotonic() + TTL + 1
        wait_until(lambda: time.monotonic() > renovado, timeout=TTL + 2, what="a life of the lock")
        assert redis_do_lock.cliente().get(CHAVE) == b"tarefa-123"
    assert _obtem("outra")
