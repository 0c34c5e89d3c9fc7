"""End to end: ``make run`` (web + worker + beat + Redis) closes a past appointment.

Runs the real stack as subprocesses, books a past appointment from another
process the way an operator would (``manage.py shell``), waits for the worker
to close it, then stops the stack like a Ctrl-C (or kills the launcher with
SIGKILL) and checks that no process is left behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import psutil
import pytest

from .support import BASE_DIR, Proc, database_url_for_tests, manage, wait_until

pytestmark = pytest.mark.celery_real

CRIAR_PASSADO = """
from datetime import timedelta
from django.utils import timezone
from apps.clinic import services
from apps.clinic.models import Dentista, Paciente
ag = services.agendamento_criar(
    paciente=Paciente.objects.create(nome="E2E"), dentista=Dentista.objects.create(nome="E2E"),
    data_hora=timezone.now() - timedelta(hours=1), duracao_minutos=20,
    permitir_retroativo=True)
print(ag.pk)
"""
SITUACAO = """
import json
from apps.clinic.models import Agendamento
print(json.dumps(list(Agendamento.objects.order_by("id").values_list(
    "id", "status", "atendimento__origem"))))
"""


def _porta_livre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except OSError:
        return 0


def _vivos(pids: list[int]) -> list[int]:
    vivos = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                vivos.append(pid)
        except psutil.NoSuchProcess:
            pass
    return vivos


def _stack_env(**extra: str) -> dict:
    """Environment for `make run`: embedded defaults unless ``extra`` names servers."""
    var = Path(tempfile.mkdtemp(prefix="nxk-e2e-", dir="/tmp"))  # short: unix socket
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL"} and not k.startswith("PYTEST_")
    }
    env.update(
        NEXKODONTO_VAR_DIR=str(var),
        PORT=str(_porta_livre()),
        PYTHONUNBUFFERED="1",
        NEXKODONTO_WORKER_STOP_TIMEOUT="20",
        **extra,
    )
    return env


@pytest.mark.parametrize("parada", ["ctrl-c", "kill-9"])
def test_make_run_on_embedded_defaults_closes_a_past_appointment_and_leaves_no_process(
    parada, tmp_path
):
    _exercitar_stack(_stack_env(), parada, tmp_path)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("parada", ["ctrl-c", "kill-9"])
def test_make_run_on_database_and_redis_urls_closes_a_past_appointment_and_leaves_no_process(
    parada, tmp_path, redis_url
):
    env = _stack_env(DATABASE_URL=database_url_for_tests(), REDIS_URL=redis_url)
    _exercitar_stack(env, parada, tmp_path)


def _exercitar_stack(stack_env: dict, parada: str, tmp_path: Path) -> None:
    stack = Proc("make-run", ["make", "--no-print-directory", "run"], stack_env, tmp_path)
    base = f"http://127.0.0.1:{stack_env['PORT']}"
    try:
        stack.wait_for_output("Ctrl-C stops everything", timeout=120)
        assert _get(f"{base}/admin/login/") == 200
        assert _get(f"{base}/static/admin/css/base.css") == 200

        # A second `make run` on the same var/ refuses to start instead of
        # taking over the first one's Redis socket.
        segundo = subprocess.run(
            ["make", "--no-print-directory", "run"],
            env=stack_env,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert segundo.returncode != 0
        # (the launcher's lines go through settings.LOGGING: stderr by default)
        assert "another `make run` is already running" in segundo.stdout + segundo.stderr
        assert _get(f"{base}/healthz") == 200

        pk = int(manage("shell", "-c", CRIAR_PASSADO, env=stack_env).stdout.split()[-1])

        def estado():
            linhas = json.loads(
                manage("shell", "-c", SITUACAO, env=stack_env).stdout.split("\n")[-2]
            )
            return {i: (s, o) for i, s, o in linhas}

        wait_until(
            lambda: estado()[pk] == ("concluido", "automatico"),
            timeout=30,
            what="the worker to close the appointment",
            interval=0.2,
        )
        if "DATABASE_URL" not in stack_env:
            # Embedded and empty: the demo data was created, and its past ones closed too.
            assert "login 'demo'" in stack.output()
            fechados = [v for k, v in estado().items() if k != pk and v[0] == "concluido"]
            assert len(fechados) == 3

        filhos = [p.pid for p in psutil.Process(stack.pid).children(recursive=True)]
        assert len(filhos) >= 6  # launcher, redis/gunicorn/worker/beat and their children
        if parada == "ctrl-c":
            os.killpg(stack.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
            assert stack.popen.wait(30) is not None
            assert re.search(r"nexkodonto\.launcher.*\bstopped\b", stack.output())
        else:
            launcher = next(
                p
                for p in psutil.Process(stack.pid).children()
                if "core.launcher" in " ".join(p.cmdline())
            )
            launcher.send_signal(signal.SIGKILL)
        wait_until(
            lambda: not _vivos(filhos), timeout=30, what="every process of the stack to exit"
        )
    finally:
        for pid in _vivos([stack.pid]):
            os.killpg(pid, signal.SIGKILL)
        stack.stop()
