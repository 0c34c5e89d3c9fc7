"""A lock shared by every process that reaches the project's Redis."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

import redis
from django.conf import settings
from redis.lock import Lock

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


class _Renovacao(threading.Thread):
    """Renews ``lock`` every ``intervalo`` seconds until :meth:`parar` (a daemon thread).

    A renewal that fails because Redis is unreachable is retried at the next
    interval; a lock that is gone (Redis restarted empty, or it expired while
    Redis was away) is taken again with the same token if it is free. The
    thread dies with its process, so a holder killed with SIGKILL stops
    renewing and its lock expires within the lock's timeout.
    """

    def __init__(self, lock: Lock, nome: str, intervalo: float) -> None:
        super().__init__(name=f"lock-renewal-{nome}", daemon=True)
        self.lock, self.nome, self.intervalo = lock, nome, intervalo
        self._fim = threading.Event()

    def run(self) -> None:
        while not self._fim.wait(self.intervalo):
            try:
                self.lock.reacquire()
            except redis.exceptions.LockNotOwnedError:
                if self.lock.acquire(token=self.lock.local.token):
                    logger.warning("lock %s was gone; taken again by its holder", self.nome)
                else:
                    logger.warning("lock %s lost to another holder", self.nome)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                logger.warning("lock %s not renewed (%s); retrying", self.nome, type(exc).__name__)

    def parar(self) -> None:
        self._fim.set()
        self.join()


@contextlib.contextmanager
def lock_exclusivo(nome: str, *, expira_em_segundos: int, dono: str = "") -> Iterator[bool]:
    """Try to take the lock ``nome`` without waiting; yield whether it was taken.

    The lock is a Redis key set with ``SET NX PX`` holding the owner's token
    (redis-py's ``Lock``), so it is atomic across processes and machines and
    only its owner releases it. It lives ``expira_em_segundos`` seconds (at
    least 3) and, while the ``with`` block runs, a thread of the holder
    renews it every third of that (``Lock.reacquire``, an atomic
    compare-and-set of the TTL), so it can be much shorter than the longest
    run: a holder killed with SIGKILL, or a release lost because Redis was
    down when the run ended, blocks later runs for at most
    ``expira_em_segundos``. A failed release is logged, not raised.

    ``dono`` (e.g. a Celery task id) is the token. A caller whose ``dono``
    already holds the lock takes it over: that is a redelivery of a task
    whose worker died mid-run (``acks_late`` + ``reject_on_worker_lost``
    deliver the same task id again), and it must not wait for its own dead
    run's lock to expire. Raises ``redis.exceptions.ConnectionError`` when
    Redis is unreachable at the start.
    """
    if expira_em_segundos < 3:
        raise ValueError("expira_em_segundos must be at least 3 (renewed every third)")
    cliente = redis_client()
    # thread_local=False: the renewal thread must see the token of this one.
    lock = cliente.lock(
        f"nexkodonto:lock:{nome}", timeout=expira_em_segundos, blocking=False, thread_local=False
    )
    token = dono or None
    obtido = lock.acquire(token=token)
    if not obtido and dono and cliente.get(lock.name) == dono.encode():
        lock.local.token = dono.encode()
        try:
            obtido = lock.reacquire()
        except redis.exceptions.LockError:  # expired in between: a plain retry is fine
            obtido = lock.acquire(token=token)
        logger.warning("lock %s taken over by its own owner %s (a redelivery)", nome, dono)
    renovacao = None
    if obtido:
        renovacao = _Renovacao(lock, nome, expira_em_segundos / 3)
        renovacao.start()
    try:
        yield obtido
    finally:
        if renovacao is not None:
            renovacao.parar()
            try:
                lock.release()
            except redis.exceptions.LockError:
                logger.warning("lock %s expired before it was released", nome)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                logger.warning(
                    "lock %s not released (%s: Redis unreachable); it expires within %d s",
                    nome,
                    type(exc).__name__,
                    expira_em_segundos,
                )
