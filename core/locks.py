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
def lock_exclusivo(nome: str, *, expira_em_segundos: int, dono: str = "") -> Iterator[bool]:
    """Try to take the lock ``nome`` without waiting; yield whether it was taken.

    The lock is a Redis key set with ``SET NX PX`` holding the owner's token
    (redis-py's ``Lock``), so it is atomic across processes and machines and
    only its owner releases it. It expires after ``expira_em_segundos``
    seconds, so a holder killed with SIGKILL cannot block later runs forever;
    choose more than the longest run (the Celery hard time limit).

    ``dono`` (e.g. a Celery task id) is the token. A caller whose ``dono``
    already holds the lock takes it over: that is a redelivery of a task
    whose worker died mid-run (``acks_late`` + ``reject_on_worker_lost``
    deliver the same task id again), and it must not wait for its own dead
    run's lock to expire. Raises ``redis.exceptions.ConnectionError`` when
    Redis is unreachable.
    """
    cliente = redis_client()
    lock = cliente.lock(f"nexkodonto:lock:{nome}", timeout=expira_em_segundos, blocking=False)
    token = dono or None
    obtido = lock.acquire(token=token)
    if not obtido and dono and cliente.get(lock.name) == dono.encode():
        lock.local.token = dono.encode()
        try:
            obtido = lock.reacquire()
        except redis.exceptions.LockError:  # expired in between: a plain retry is fine
            obtido = lock.acquire(token=token)
        logger.warning("lock %s taken over by its own owner %s (a redelivery)", nome, dono)
    try:
        yield obtido
    finally:
        if obtido:
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("lock %s expired before it was released", nome)
