"""deploy/Procfile, started as docs/DEPLOY.md says: web, two workers on two queues, beat.

A real run with honcho (a Foreman clone) from the project root: a past
appointment booked through the API of the Procfile's web is closed by the
``finalizacao`` worker, and beat's sweep, on a 1-second schedule, closes a
row inserted by SQL on the ``varredura`` worker. The stack gets a Redis of its
own (``redis_proprio``), so no other worker of the test session can do the work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from datetime import timedelta

import psutil
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.contas.tokens import token_criar

from .factories import DentistaFactory, PacienteFactory
from .support import BASE_DIR, BIN, porta_livre, process_env, wait_until
from .test_falhas import _status, redis_proprio  # noqa: F401  (the stack's own Redis)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]

PROCFILE = BASE_DIR / "deploy" / "Procfile"


def _processos_do_procfile() -> list[str]:
    linhas = PROCFILE.read_text().splitlines()
    return [linha.split(":", 1)[0] for linha in linhas if linha and not linha.startswith("#")]


def test_the_procfile_names_web_one_worker_per_queue_and_one_beat():
    assert _processos_do_procfile() == ["web", "worker_finalizacao", "worker_varredura", "beat"]


def test_honcho_runs_the_procfile_and_each_queue_has_its_worker(redis_proprio, tmp_path):  # noqa: F811
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    tarefa.crontab = None
    tarefa.interval, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    tarefa.save()
    usuario = get_user_model().objects.create_user("gestora-procfile")
    usuario.groups.add(Group.objects.get(name="gestor"))
    token = token_criar(usuario)
    paciente, dentista = PacienteFactory(), DentistaFactory()

    porta = porta_livre()
    env = process_env(redis_url=redis_proprio.url, PORT=str(porta))
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"  # the Procfile names gunicorn, celery
    env.pop("BROKER_URL", None)
    log = (tmp_path / "honcho.log").open("wb")
    # The operator's command of docs/DEPLOY.md (PORT set: honcho then gives web this port).
    honcho = subprocess.Popen(
        [str(BIN / "honcho"), "-f", str(PROCFILE), "-d", str(BASE_DIR), "start"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def saida() -> str:
        return (tmp_path / "honcho.log").read_text(errors="replace")

    try:
        for nome in ("worker_finalizacao", "worker_varredura"):
            wait_until(
                lambda nome=nome: f"{nome}.1" in saida() and saida().count(" ready.") >= 2,
                timeout=60,
                what=f"{nome} to be ready",
            )

        wait_until(
            lambda: _status(f"http://127.0.0.1:{porta}/healthz") == 200,
            timeout=60,
            what="the Procfile's web to answer",
        )

        # 1. A past appointment booked through the API: closed by the finalizacao worker.
        pedido = urllib.request.Request(
            f"http://127.0.0.1:{porta}/api/agendamentos/",
            data=json.dumps(
                {
                    "paciente": paciente.pk,
                    "dentista": dentista.pk,
                    "data_hora": (timezone.now() - timedelta(hours=3)).isoformat(),
                }
            ).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        with urllib.request.urlopen(pedido, timeout=10) as resposta:
            assert resposta.status == 201
            pk = json.loads(resposta.read())["id"]
        wait_until(
            lambda: Agendamento.objects.get(pk=pk).status == "concluido",
            timeout=30,
            what="the finalizacao worker to close the booked appointment",
        )

        # 2. A row inserted by SQL (no signal): only beat's sweep can close it.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO clinic_agendamento (paciente_id, dentista_id, data_hora,"
                " duracao_minutos, observacoes, status, active, fechamento_automatico,"
                " horario_estimado, cancelamento_tardio, created_at, updated_at)"
                " VALUES (%s, %s, %s, 30, '', 'agendado', true, true, false, false, %s, %s)"
                " RETURNING id",
                [paciente.pk, dentista.pk, timezone.now() - timedelta(days=2)]
                + [timezone.now()] * 2,
            )
            varrido = cursor.fetchone()[0]
        wait_until(
            lambda: Agendamento.objects.get(pk=varrido).status == "concluido",
            timeout=30,
            what="beat's sweep to close the row inserted by SQL",
        )

        # Each task ran on the worker of its queue ("name[id]": a task's log lines,
        # not the start-up banner's list of registered tasks).
        linhas = saida().splitlines()
        assert any(
            "worker_finalizacao.1" in linha and "processar_agendamento_especifico[" in linha
            for linha in linhas
        )
        assert any(
            "worker_varredura.1" in linha
            and "verificar_e_finalizar_agendamentos_passados[" in linha
            for linha in linhas
        )
        assert not any(
            "worker_varredura.1" in linha and "processar_agendamento_especifico[" in linha
            for linha in linhas
        )
        assert any("beat.1" in linha and "Sending due task" in linha for linha in linhas)
        filhos = psutil.Process(honcho.pid).children(recursive=True)
    finally:
        # Ctrl-C, as an operator stops it: honcho stops every process.
        honcho.send_signal(signal.SIGINT)
        try:
            honcho.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait()
        log.close()
    wait_until(
        lambda: not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in filhos),
        timeout=30,
        what="every process of the Procfile to exit",
    )
