"""A lock shared by every process that reaches the project's Redis."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


def redis_client() -> redis.Redis:
    """A redis-py client for ``settings.REDIS_URL``.

    Celery's ``redis+socket:///abs/path`` form (unix socket) is translated to
    redis-py's ``unix:///abs/path``.
    """
    url = settings.REDIS_URL
    if url.startswith("redis+socket://"):
        url = "unix://" + url.removeprefix("redis+socket://")
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


@contextlib.contextmanager
def lock_exclusivo(nome: str, *, expira_em_segundos: int) -> Iterator[bool]:
    """Try to take the lock ``nome`` without waiting; yield whether it was taken.

    The lock is a Redis key set with ``SET NX PX`` and a random token
    (redis-py's ``Lock``), so it is atomic across processes and machines and
    only its owner releases it. It expires after ``expira_em_segundos``
    seconds, so a holder killed with SIGKILL cannot block later runs forever;
    choose more than the longest run (the Celery hard time limit).
    Raises ``redis.exceptions.ConnectionError`` when Redis is unreachable.
    """
    lock = redis_client().lock(
        f"nexkodonto:lock:{nome}", timeout=expira_em_segundos, blocking=False
    )
    obtido = lock.acquire()
    try:
        yield obtido
    finally:
        if obtido:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("lock %s expired before it was released", nome)
