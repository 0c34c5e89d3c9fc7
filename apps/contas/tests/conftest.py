"""Fixtures of the accounts tests: a real, shared Redis cache of each test's own."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from apps.clinic.tests.conftest import redis_url  # noqa: F401  (a real Redis for the session)
from core.settings import _url_do_cache


@pytest.fixture(autouse=True)
def cache_redis(redis_url):  # noqa: F811
    """The default cache on the session's real Redis, under a key prefix of this test only.

    Each test starts with no rate-limit counters, and nothing is flushed: the
    Redis database is shared with the Celery tests' broker.
    """
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _url_do_cache(redis_url),
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
