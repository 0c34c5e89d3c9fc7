"""The closing job under faults, with real processes (issue: nothing lost, nothing doubled).

Each test starts what it needs itself: its own Redis on its own TCP port, real
``celery worker`` / ``celery beat`` / gunicorn subprocesses, all on the test
database. They run on PostgreSQL (CI's first pass), where row locks, backend
termination and the exclusion constraint are real; see docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
import uuid
from datetime import timedelta

import psutil
import pytest
from celery import Celery
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento, HistoricoStatus
from apps.contas.tokens import token_criar

from .factories import DentistaFactory, PacienteFactory
from .support import BIN, Proc, RedisProprio, process_env, wait_until
from .support import porta_livre as _porta_livre

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.celery_real,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="fault scenarios run on PostgreSQL + Redis (CI's first pass)",
    ),
]

VARREDURA = "apps.clinic.tasks.verificar_e_finalizar_agendamentos_passados"
UM = "apps.clinic.tasks.processar_agendamento_especifico"


@pytest.fixture
def redis_proprio():
    servidor = RedisProprio()
    servidor.iniciar()
    yield servidor
    servidor.parar()


@pytest.fixture
def celery_app(redis_proprio):
    """A producer bound to the test's own Redis (send_task by name)."""
    # Not the current app: shared tasks' .delay() elsewhere must keep using core's.
    app = Celery("falhas", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    # Results: the settings' database backend (the test database), not this Redis.
    app.conf.broker_url = redis_proprio.url
    yield app
    app.close()


@pytest.fixture
def processos(tmp_path):
    """Start project processes; every one is stopped at the end of the test."""
    iniciados: list[Proc] = []

    def iniciar(nome: str, args: list[str], redis_url: str, pronto: str | None, **env) -> Proc:
        proc = Proc(nome, args, process_env(redis_url=redis_url, **env), tmp_path)
        iniciados.append(proc)
        if pronto:
            proc.wait_for_output(pronto, timeout=60)
        return proc

    def worker(redis_url: str, nome: str = "worker", concurrency: int = 2, **env) -> Proc:
        return iniciar(
            nome,
            [
                str(BIN / "celery"),
                "-A",
                "core",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"{nome}-{uuid.uuid4().hex[:6]}@%h",
            ],
            redis_url,
            " ready.",
            **env,
        )

    def web(redis_url: str) -> tuple[Proc, int]:
        """gunicorn (1 worker) on a free port, answering /healthz; returns (process, port)."""
        porta = _porta_livre()
        proc = iniciar(
            "web",
            [
                str(BIN / "gunicorn"),
                "core.wsgi",
                "--bind",
                f"127.0.0.1:{porta}",
                "--workers",
                "1",
                "--no-control-socket",
            ],
            redis_url,
            "Booting worker",
        )
        wait_until(
            lambda: _status(f"http://127.0.0.1:{porta}/healthz") == 200,
            timeout=30,
            what="gunicorn to answer",
        )
        return proc, porta

    iniciar.worker = worker
    iniciar.web = web
    yield iniciar
    for proc in reversed(iniciados):
        if proc.popen.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.popen.wait()


def _backlog(n: int, *, dias_atras: int | None = None) -> list[int]:
    """``n`` due appointments inserted by SQL (one dentist, 30-minute slots, no signal)."""
    dias_atras = dias_atras or n // 48 + 2  # 48 slots a day: the last one ends in the past
    paciente, dentista = PacienteFactory(), DentistaFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO clinic_agendamento (paciente_id, dentista_id, data_hora, duracao_minutos,
                observacoes, status, active, fechamento_automatico, horario_estimado,
                cancelamento_tardio, created_at, updated_at)
            SELECT %s, %s, now() - interval '1 day' * %s + interval '30 minutes' * g, 30,
                '', 'agendado', true, true, false, false, now(), now()
            FROM generate_series(1, %s) g
            RETURNING id
            """,
            [paciente.pk, dentista.pk, dias_atras, n],
        )
        return [linha[0] for linha in cursor.fetchall()]


def _fechados() -> int:
    return Agendamento.objects.filter(status="concluido").count()


def _assert_cada_um_fechado_uma_vez(ids: list[int]) -> None:
    """Every id closed, exactly one visit record and one closing each, nothing half-done."""
    assert Agendamento.objects.filter(pk__in=ids, active=True).count() == 0
    assert Atendimento.objects.filter(agendamento_id__in=ids).count() == len(ids)
    duplicados = (
        HistoricoStatus.objects.filter(agendamento_id__in=ids, status_novo="concluido")
        .values("agendamento_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicados.exists()
    assert HistoricoStatus.objects.filter(
        agendamento_id__in=ids, status_novo="concluido"
    ).count() == len(ids)
    # Half-done batches would show as a close without its record or the reverse.
    assert not Agendamento.objects.filter(status="concluido", atendimento__isnull=True).exists()
    assert not Atendimento.objects.exclude(agendamento__status="concluido").exists()


# --- 1. signal before commit --------------------------------------------------------


def test_1_a_save_in_a_long_transaction_is_closed_after_commit_and_a_rollback_publishes_nothing(
    celery_worker, redis_url
):
    with transaction.atomic():
        ag = services.agendamento_criar(
            paciente=PacienteFactory(),
            dentista=DentistaFactory(),
            data_hora=timezone.now() - timedelta(hours=3),
            permitir_retroativo=True,
        )
        time.sleep(2)  # the scenario itself: the transaction stays open two seconds
    wait_until(
        lambda: Atendimento.objects.filter(agendamento=ag).exists(),
        timeout=20,
        what="the worker to close the appointment after commit",
    )
    assert f"appointment {ag.pk} no longer exists" not in celery_worker.output()

    with pytest.raises(RuntimeError), transaction.atomic():
        desfeito = services.agendamento_criar(
            paciente=PacienteFactory(),
            dentista=DentistaFactory(),
            data_hora=timezone.now() - timedelta(hours=3),
            permitir_retroativo=True,
        )
        raise RuntimeError("rollback")
    # A later, committed save is processed; the rolled-back one was never published.
    marcador = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=timezone.now() - timedelta(hours=3),
        permitir_retroativo=True,
    )
    wait_until(
        lambda: Atendimento.objects.filter(agendamento=marcador).exists(),
        timeout=20,
        what="the marker appointment to be closed",
    )
    assert f"appointment {desfeito.pk} no longer exists" not in celery_worker.output()
    assert not Agendamento.objects.filter(pk=desfeito.pk).exists()


# --- 2. broker down -------------------------------------------------------------------


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resposta:
            return resposta.status
    except OSError:
        return 0


def test_2_with_redis_stopped_an_api_save_answers_in_2_s_and_the_sweep_closes_it_later(
    redis_proprio, celery_app, processos
):
    usuario = get_user_model().objects.create_user("gestora-falhas")
    usuario.groups.add(Group.objects.get(name="gestor"))
    token = token_criar(usuario)
    paciente = PacienteFactory(nome="Helena Reservada Costa")
    web, porta = processos.web(redis_proprio.url)
    redis_proprio.parar()

    corpo = json.dumps(
        {
            "paciente": paciente.pk,
            "dentista": DentistaFactory().pk,
            "data_hora": (timezone.now() - timedelta(hours=4)).isoformat(),
        }
    ).encode()
    pedido = urllib.request.Request(
        f"http://127.0.0.1:{porta}/api/agendamentos/",
        data=corpo,
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    inicio = time.monotonic()
    with urllib.request.urlopen(pedido, timeout=10) as resposta:
        assert resposta.status == 201
        pk = json.loads(resposta.read())["id"]
    segundos = time.monotonic() - inicio
    print(f"save with Redis down answered in {segundos:.3f} s")
    assert segundos < 2.0

    # Saved and open; the failure logged with the id only.
    assert Agendamento.objects.get(pk=pk).active
    wait_until(
        lambda: f"could not enqueue closing of appointment {pk}" in web.output(),
        timeout=10,
        what="the web process to log the failed publish",
    )
    assert "Helena" not in web.output()

    # Redis is back: the next sweep closes it.
    redis_proprio.iniciar()
    processos.worker(redis_proprio.url)
    assert celery_app.send_task(VARREDURA).get(timeout=60) == 1
    assert Agendamento.objects.get(pk=pk).status == "concluido"


# --- 3. worker killed mid-sweep ---------------------------------------------------------

CURTO = {
    # Short limits so a message whose whole worker died comes back within the test.
    "CELERY_TASK_SOFT_TIME_LIMIT": "20",
    "CELERY_TASK_TIME_LIMIT": "25",
    "CELERY_VISIBILITY_TIMEOUT": "30",
    "FINALIZACAO_TAMANHO_LOTE": "200",
}


@pytest.mark.parametrize("alvo", ["processo-filho", "worker-inteiro"])
def test_3_a_worker_killed_mid_sweep_leaves_nothing_half_done_and_the_rest_is_closed(
    alvo, redis_proprio, celery_app, processos
):
    ids = _backlog(20_000)
    worker = processos.worker(redis_proprio.url, concurrency=1, **CURTO)
    celery_app.send_task(VARREDURA)
    wait_until(lambda: _fechados() >= 2_000, timeout=60, what="the sweep to be under way")

    filhos = psutil.Process(worker.pid).children()
    if alvo == "processo-filho":
        for filho in filhos:
            filho.send_signal(signal.SIGKILL)  # the main process starts a new child
    else:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.popen.wait()
        parcial = _fechados()
        assert parcial < len(ids), "the sweep finished before the kill: nothing was tested"
        processos.worker(redis_proprio.url, nome="worker-novo", concurrency=1, **CURTO)
    print(f"{alvo}: killed with {_fechados()} of {len(ids)} closed")

    # The message comes back (reject_on_worker_lost, or after visibility_timeout)
    # under the same task id, takes over its own lock and finishes.
    wait_until(
        lambda: _fechados() == len(ids),
        timeout=120,
        interval=0.5,
        what="every appointment to be closed after the kill",
    )
    _assert_cada_um_fechado_uma_vez(ids)


# --- 4. duplicate delivery --------------------------------------------------------------


def test_4_the_same_message_twice_and_a_sweep_at_once_leave_one_visit_record(
    redis_proprio, celery_app, processos
):
    ids = _backlog(300)
    worker = processos.worker(redis_proprio.url, concurrency=4)
    resultados = []
    for pk in ids:
        task_id = str(uuid.uuid4())
        # The same message twice: what a redelivery looks like to the workers.
        resultados += [celery_app.send_task(UM, args=[pk], task_id=task_id) for _ in range(2)]
        if pk == ids[len(ids) // 2]:
            resultados.append(celery_app.send_task(VARREDURA))
    wait_until(
        lambda: _fechados() == len(ids),
        timeout=120,
        interval=0.2,
        what="every appointment to be closed",
    )
    wait_until(lambda: "succeeded" in worker.output(), timeout=10, what="task logs")
    _assert_cada_um_fechado_uma_vez(ids)
    assert "IntegrityError" not in worker.output()
    assert "raised unexpected" not in worker.output()


# --- 5. two beats -----------------------------------------------------------------------


def test_5_two_beats_for_a_minute_sweep_exactly_once_each_row(redis_proprio, processos):
    ids = _backlog(30_000)
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    tarefa.crontab = None
    tarefa.interval, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    tarefa.save()
    worker = processos.worker(redis_proprio.url, concurrency=2, FINALIZACAO_TAMANHO_LOTE="100")
    beats = [
        processos(
            f"beat-{n}",
            [
                str(BIN / "celery"),
                "-A",
                "core",
                "beat",
                "--loglevel",
                "INFO",
                "--pidfile",
                "",
                "--schedule",
                f"/tmp/nxk-beat-{uuid.uuid4().hex}",
            ],
            redis_proprio.url,
            "beat: Starting",
        )
        for n in (1, 2)
    ]
    fim = time.monotonic() + 60
    wait_until(
        lambda: time.monotonic() > fim or worker.popen.poll() is not None,
        timeout=90,
        interval=1,
        what="a minute of two beats",
    )
    for beat in beats:
        beat.stop()
    wait_until(
        lambda: _fechados() == len(ids),
        timeout=120,
        interval=0.5,
        what="the sweeps to close the backlog",
    )
    _assert_cada_um_fechado_uma_vez(ids)
    # Both beats sent the sweep; overlapping runs found the lock taken and did nothing.
    assert all("Sending due task" in beat.output() for beat in beats)
    puladas = worker.output().count("sweep skipped: another run holds the lock")
    print(f"two beats: {puladas} overlapping sweep runs skipped by the lock")
    assert puladas >= 1


# --- 6. stale database connections ---------------------------------------------------------


def test_6_after_the_workers_postgresql_backends_are_terminated_the_next_task_succeeds(
    redis_proprio, celery_app, processos
):
    primeiro, segundo = _backlog(2, dias_atras=30)
    worker = processos.worker(redis_proprio.url, concurrency=1, CONN_MAX_AGE="600")
    assert celery_app.send_task(VARREDURA).get(timeout=30) == 2  # opens persistent connections
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1
    terceiro = _backlog(1, dias_atras=20)[0]
    # The single-appointment task has no retry of its own: it must get a live connection.
    celery_app.send_task(UM, args=[terceiro])
    wait_until(
        lambda: (
            Agendamento.objects.get(pk=terceiro).status == "concluido"
            or "raised unexpected" in worker.output()
        ),
        timeout=30,
        what="the next task to run",
    )
    assert "raised unexpected" not in worker.output(), worker.output()[-2000:]
    assert Agendamento.objects.get(pk=terceiro).status == "concluido"


# --- 7. huge backlog ------------------------------------------------------------------------


def test_7_a_200k_backlog_is_closed_in_one_sweep_with_flat_memory_and_a_responsive_web(
    redis_proprio, celery_app, processos
):
    ids = _backlog(200_000)
    _web, porta = processos.web(redis_proprio.url)
    worker = processos.worker(redis_proprio.url, concurrency=1)
    filho = psutil.Process(worker.pid).children()[0]
    rss_inicial = filho.memory_info().rss

    inicio = time.monotonic()
    resultado = celery_app.send_task(VARREDURA)
    pico, latencias = rss_inicial, []
    while not resultado.ready():
        pico = max(pico, filho.memory_info().rss)
        t = time.monotonic()
        assert _status(f"http://127.0.0.1:{porta}/healthz") == 200
        latencias.append(time.monotonic() - t)
        if time.monotonic() - inicio > 300:
            pytest.fail("the sweep took more than 5 minutes")
        time.sleep(0.2)  # sampling period of the measurement, not a wait for a condition
    segundos = time.monotonic() - inicio
    assert resultado.get() == len(ids)
    latencias.sort()
    p50 = latencias[len(latencias) // 2]
    print(
        f"200k sweep: {segundos:.1f} s, worker child RSS {rss_inicial / 2**20:.0f} -> peak "
        f"{pico / 2**20:.0f} MB, /healthz during it p50 {p50 * 1000:.0f} "
        f"ms max {latencias[-1] * 1000:.0f} ms over {len(latencias)} requests"
    )
    assert pico - rss_inicial < 60 * 2**20  # flat: batches, not 200k objects in memory
    assert latencias[-1] < 1.0
    assert Agendamento.objects.filter(active=True).count() == 0
    assert Atendimento.objects.count() == len(ids)
