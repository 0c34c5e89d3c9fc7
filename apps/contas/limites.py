"""The token login's rate limit: a fixed window per client address, counted atomically.

DRF's SimpleRateThrottle reads a request history from the cache and writes it
back in two calls, so parallel requests all read the same history and pass
together. Here django-ratelimit's counter does one atomic ``add`` (SET NX with
expiry) and one atomic ``incr`` (INCR) in the shared Redis cache: of any
number of parallel requests in one window, exactly ``limit`` get through.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from .rede import ip_do_cliente

logger = logging.getLogger(__name__)


def _chave(grupo: str, request) -> str:
    return ip_do_cliente(request)


class LimiteDeLogin(BaseThrottle):
    """At most ``API_LOGIN_RATE`` (e.g. ``"10/min"``) token-login attempts per client address.

    Every attempt counts, right or wrong. When the cache cannot be reached the
    attempt is allowed and a warning logged (fail open): a Redis outage must
    not lock the whole clinic out, and django-axes still locks a user + address
    out after AXES_FAILURE_LIMIT wrong passwords, in the database.
    """

    grupo = "contas.login"

    def __init__(self) -> None:
        self._segundos_restantes: int | None = None

    def allow_request(self, request, view) -> bool:
        try:
            uso = get_usage(
                request,
                group=self.grupo,
                key=_chave,
                rate=settings.API_LOGIN_RATE,
                increment=True,
            )
        except (RedisError, OSError) as exc:
            logger.warning(
                "login rate limit not applied: the cache failed (%s); django-axes still applies",
                type(exc).__name__,
            )
            return True
        if uso is None:  # RATELIMIT_FAIL_OPEN: the counter could not be read
            logger.warning("login rate limit not applied: the cache returned no count")
            return True
        if uso["should_limit"]:
            self._segundos_restantes = max(uso["time_left"], 1)
            return False
        return True

    def wait(self) -> int | None:
        """Seconds until the window ends (DRF sends them as Retry-After)."""
        return self._segundos_restantes
