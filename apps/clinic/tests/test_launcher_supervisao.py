"""``make run`` supervises its children: a child that dies is started again.

One real stack (embedded Redis and SQLite, the demo data) serves most tests
of this module, in order: its start-up output, then the worker, beat, the
gunicorn master and the embedded Redis are SIGKILLed in turn and must come
back by themselves (new pid, the work still done), and at the end a SIGTERM
must leave no process behind. A second stack checks that Ctrl-C during a
pending restart and during the ordered stop starts nothing again.

No test hook in the launcher: a child "keeps dying" because the test kills
it again each time it is back.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import psutil
import pytest

from core import launcher

from .support import BASE_DIR, Proc, manage, wait_until
from .test_launcher_e2e import CRIAR_PASSADO, SITUACAO, _get, _stack_env, _vivos

PRONTO = "NEXKODONTO is running"


def _launcher_de(stack: Proc) -> psutil.Process:
    return next(
        p
        for p in psutil.Process(stack.pid).children(recursive=True)
        if "core.launcher" in " ".join(p.cmdline())
    )


def _filho(stack: Proc, nome: str) -> psutil.Process | None:
    """The launcher's live child called ``nome`` (redis, web, worker, beat), if any."""
    for p in _launcher_de(stack).children():
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            cmd = p.cmdline()
        except psutil.NoSuchProcess:
            continue
        if not cmd:  # just forked, or exiting: its command line is not readable yet
            continue
        if (
            (nome == "redis" and "redis-server" in cmd[0])
            or (nome == "web" and "gunicorn" in " ".join(cmd[:2]))
            or (nome in ("worker", "beat") and "celery" in " ".join(cmd[:2]) and nome in cmd)
        ):
            return p
    return None


def _novo(stack: Proc, nome: str, antigo: int) -> psutil.Process:
    """Wait for ``nome`` to run again under a pid other than ``antigo``."""
    return wait_until(
        lambda: (p := _filho(stack, nome)) is not None and p.pid != antigo and p,
        timeout=40,
        what=f"{nome} to be started again",
        interval=0.1,
    )


def _fecha_um_passado(env: dict) -> None:
    """Book an appointment already over (another process) and wait for the worker to close it."""

    def shell(codigo: str) -> str:
        return manage("shell", "-c", codigo, env=env).stdout

    pk = int(shell(CRIAR_PASSADO).split()[-1])

    def fechado():
        linhas = json.loads(shell(SITUACAO).split("\n")[-2])
        return {i: (s, o) for i, s, o in linhas}[pk] == ("concluido", "automatico")

    wait_until(fechado, timeout=60, what=f"the worker to close appointment {pk}", interval=0.3)


def _atrasos(saida: str, nome: str) -> list[int]:
    return [
        int(s) for s in re.findall(rf"{nome} \(pid \d+\) died: .*? restarting it in (\d+) s", saida)
    ]


@pytest.fixture(scope="module")
def pilha(tmp_path_factory):
    env = _stack_env()
    stack = Proc(
        "make-run", ["make", "--no-print-directory", "run"], env, tmp_path_factory.mktemp("sv")
    )
    stack.env = env
    stack.base = f"http://127.0.0.1:{env['PORT']}"
    try:
        stack.wait_for_output("Ctrl-C stops everything", timeout=180)
        yield stack
    finally:
        for pid in _vivos([stack.pid]):
            os.killpg(pid, signal.SIGKILL)
        stack.stop()


PARADO = re.compile(r"nexkodonto\.launcher.*\bstopped\b")


@pytest.mark.celery_real
def test_the_start_up_output_is_short_and_ends_with_the_login_block(pilha):
    linhas = pilha.output().splitlines()
    inicio = next(i for i, linha in enumerate(linhas) if PRONTO in linha)
    bloco = "\n".join(linhas[inicio : inicio + 7])
    # Measured on an empty var/: 147 lines before the URLs, the login 74 lines
    # up in migrate's and Celery's banners. Now 37, of which 9 are the worker
    # closing the demo's 3 past appointments (counted out here: timing), the
    # rest gunicorn's start-up (5), django-axes's line per process (4),
    # Celery's warning when run as root (7).
    ruido = [
        linha
        for linha in linhas[:inicio]
        if not re.search(
            r"Task apps\.clinic\.tasks\.\S+ (received|succeeded)|closed \d+ app", linha
        )
    ]
    assert len(ruido) <= 35, "\n".join(ruido)
    assert not any("Applying " in linha or "-------------- [queues]" in linha for linha in linhas)
    assert f"{pilha.base}/admin/" in bloco
    assert re.search(r"login 'demo' .*, password \S{8,}", bloco)
    assert "demo_credenciais.txt" in bloco
    assert "Ctrl-C stops everything" in bloco


@pytest.mark.celery_real
def test_a_killed_worker_is_back_in_seconds_and_the_site_kept_answering(pilha):
    antigo = _filho(pilha, "worker")
    # Its prefork children (forked a moment after the main process starts).
    pool = wait_until(
        lambda: [c.pid for c in antigo.children()], timeout=30, what="the worker's pool children"
    )

    respostas: list[int] = []
    fim = threading.Event()

    def sonda():
        while not fim.is_set():
            try:  # a loaded machine may be slow, but every request must be answered
                with urllib.request.urlopen(f"{pilha.base}/healthz", timeout=15) as resp:
                    respostas.append(resp.status)
            except OSError as exc:
                respostas.append(repr(exc))
            fim.wait(0.05)

    t = threading.Thread(target=sonda)
    t.start()
    try:
        antigo.send_signal(signal.SIGKILL)
        novo = _novo(pilha, "worker", antigo.pid)
        pilha.wait_for_output(f"restarted worker (pid {novo.pid})")
        _fecha_um_passado(pilha.env)
    finally:
        fim.set()
        t.join()

    assert f"worker (pid {antigo.pid}) died: signal SIGKILL" in pilha.output()
    # Every request made during the restart was answered.
    assert len(respostas) > 10 and set(respostas) == {200}, respostas
    # The dead worker's pool children did not stay behind as orphans.
    wait_until(lambda: not _vivos(pool), timeout=15, what="the old pool children to exit")


@pytest.mark.celery_real
def test_a_child_that_keeps_dying_is_restarted_with_growing_delays(pilha):
    beat = _filho(pilha, "beat")
    for _ in range(3):
        beat.send_signal(signal.SIGKILL)
        beat = _novo(pilha, "beat", beat.pid)
    # Dying again seconds after each start: 1 s, then 2 s, then 4 s.
    assert _atrasos(pilha.output(), "beat") == [1, 2, 4]
    pilha.wait_for_output(f"restarted beat (pid {beat.pid})")
    assert beat.is_running()


@pytest.mark.celery_real
def test_a_killed_gunicorn_master_is_restarted_and_serves_again(pilha):
    antigo = _filho(pilha, "web")
    workers = [c.pid for c in antigo.children()]
    antigo.send_signal(signal.SIGKILL)
    novo = _novo(pilha, "web", antigo.pid)
    wait_until(
        lambda: _get(f"{pilha.base}/healthz") == 200 and novo.children(),
        timeout=40,
        what="the new gunicorn to answer",
        interval=0.2,
    )
    assert f"web (pid {antigo.pid}) died: signal SIGKILL" in pilha.output()
    wait_until(lambda: not _vivos(workers), timeout=15, what="the old gunicorn workers to exit")
    assert not set(workers) & {c.pid for c in novo.children()}


@pytest.mark.celery_real
def test_a_killed_embedded_redis_is_restarted_and_the_work_goes_on(pilha):
    antigo = _filho(pilha, "redis")
    antigo.send_signal(signal.SIGKILL)
    _novo(pilha, "redis", antigo.pid)
    assert f"redis (pid {antigo.pid}) died: signal SIGKILL" in pilha.output()
    # Worker and beat reconnect by themselves: a save afterwards is still closed.
    _fecha_um_passado(pilha.env)
    assert _get(f"{pilha.base}/healthz") == 200


@pytest.mark.celery_real
def test_sigterm_after_restarts_leaves_no_process_behind(pilha):
    processos = [p.pid for p in psutil.Process(pilha.pid).children(recursive=True)]
    assert len(processos) >= 6
    _launcher_de(pilha).send_signal(signal.SIGTERM)
    assert pilha.popen.wait(60) is not None
    wait_until(lambda: not _vivos(processos), timeout=30, what="every process to exit")
    saida = pilha.output()
    assert "stopping: beat and web" in saida and "nexkodonto.launcher" in saida
    assert PARADO.search(saida)


@pytest.mark.celery_real
def test_ctrl_c_during_a_pending_restart_and_the_stop_starts_nothing_again(tmp_path):
    env = _stack_env(NEXKODONTO_DEMO="0")
    stack = Proc("make-run", ["make", "--no-print-directory", "run"], env, tmp_path)
    try:
        stack.wait_for_output("Ctrl-C stops everything", timeout=180)
        processos = [p.pid for p in psutil.Process(stack.pid).children(recursive=True)]
        beat = _filho(stack, "beat")
        worker = _filho(stack, "worker")
        for _ in range(2):  # so that the next restart is 4 s away: time for the Ctrl-C
            beat.send_signal(signal.SIGKILL)
            beat = _novo(stack, "beat", beat.pid)
        beat.send_signal(signal.SIGKILL)
        stack.wait_for_output(f"beat (pid {beat.pid}) died")
        antes = len(re.findall(r"restarted \w+ \(pid", stack.output()))
        os.killpg(stack.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        stack.wait_for_output("stopping: beat and web")
        worker.send_signal(signal.SIGKILL)  # dies during the ordered stop
        assert stack.popen.wait(60) is not None
        wait_until(lambda: not _vivos(processos), timeout=30, what="every process to exit")
        saida = stack.output()
        assert len(re.findall(r"restarted \w+ \(pid", saida)) == antes
        assert re.search(r"beat \(pid \d+\) died: .* restarting it in 4 s", saida)
        assert PARADO.search(saida)
    finally:
        for pid in _vivos([stack.pid]):
            os.killpg(pid, signal.SIGKILL)
        stack.stop()


@pytest.mark.celery_real
def test_a_failed_set_up_step_shows_its_error_and_stops(tmp_path):
    # A database that cannot be opened: migrate fails.
    env = _stack_env(DATABASE_URL=f"sqlite:///{tmp_path}/no/such/dir/db.sqlite3")
    done = subprocess.run(
        [sys.executable, "-m", "core.launcher"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    saida = done.stdout + done.stderr
    assert "unable to open database file" in saida
    assert "set-up step failed: manage.py migrate" in saida
    assert PARADO.search(saida)


@pytest.mark.celery_real
def test_the_launcher_logs_through_the_settings_logging(tmp_path):
    # A settings module whose LOGGING writes JSON-like lines (what LOG_FORMAT=json does).
    (tmp_path / "ajustes_json.py").write_text(
        "from core.settings import *  # noqa\n"
        "LOGGING = {'version': 1, 'formatters': {'j': {'format':"
        ' \'{"logger": "%(name)s", "message": "%(message)s"}\'}},'
        " 'handlers': {'h': {'class': 'logging.StreamHandler', 'formatter': 'j'}},"
        " 'root': {'handlers': ['h'], 'level': 'INFO'}}\n"
    )
    env = _stack_env(DJANGO_SETTINGS_MODULE="ajustes_json", PYTHONPATH=f"{tmp_path}:{BASE_DIR}")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from core import launcher; launcher.configure_logging(); launcher.log.info('ola')",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(done.stderr) == {"logger": "nexkodonto.launcher", "message": "ola"}


@pytest.mark.parametrize(
    ("anterior", "tempo_no_ar", "esperado"),
    [
        (0, 0.5, 1),  # first death
        (1, 2, 2),
        (2, 3, 4),
        (16, 5, 30),  # capped
        (30, 5, 30),
        (30, 61, 1),  # stayed up a while: back to the first delay
    ],
)
def test_restart_delays_double_up_to_a_cap_and_reset(anterior, tempo_no_ar, esperado):
    assert launcher.restart_delay(anterior, tempo_no_ar) == esperado


@pytest.mark.parametrize("criado_agora", [True, False])
def test_the_login_block_shows_the_password_only_on_the_run_that_created_it(
    criado_agora, tmp_path, monkeypatch
):
    for nome in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(nome, raising=False)
    monkeypatch.setenv("NEXKODONTO_VAR_DIR", str(tmp_path))
    (tmp_path / "demo_credenciais.txt").write_text("senha de todos: s3nh4-d3m0\ndemo: ...\n")
    pilha = launcher.Stack()
    pilha.base_url = "http://127.0.0.1:8000"
    pilha.env["REDIS_URL"] = "redis+socket:///x/redis.sock"
    pilha.demo_created = criado_agora
    bloco = pilha.ready_block()
    assert "login 'demo'" in bloco
    assert f"password file: {tmp_path / 'demo_credenciais.txt'}" in bloco
    assert ("s3nh4-d3m0" in bloco) is criado_agora
    assert "http://127.0.0.1:8000/admin/" in bloco
    assert bloco.splitlines()[-1].strip().startswith("Ctrl-C stops everything")


@pytest.mark.celery_real
def test_a_child_that_cannot_be_started_again_is_retried_with_growing_delays(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("NEXKODONTO_VAR_DIR", str(tmp_path))
    pilha = launcher.Stack()
    filho = launcher.Child("beat", [str(tmp_path / "no-such-program")])
    filho.proc = subprocess.Popen(["true"])
    filho.proc.wait()
    filho.delay_s, filho.restart_at = 1.0, 0.0  # its restart is due
    pilha.children["beat"] = filho
    with caplog.at_level("INFO", logger="nexkodonto.launcher"):
        pilha.supervise_once()
        assert filho.proc is None and filho.delay_s == 2.0
        assert filho.restart_at > time.monotonic()
        pilha.supervise_once()  # not due yet: nothing
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["could not start beat"]
