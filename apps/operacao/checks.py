"""The checks of ``/health/ready``, as django-health-check plugins.

Each check is a ``health_check.base.HealthCheck`` (django-health-check 4:
a dataclass with a ``run`` that raises to report a problem; its runner adds
the timeout and turns any unexpected exception into a generic error). The
library's own Database and Celery ping checks are used as they are; the
broker, its eviction policy and the sweep's dead-man check are ours.

What reaches the HTTP answer is only ``nome`` and, when a check fails, the
``codigo``/``motivo`` of an :class:`Problema` raised here (fixed pt-BR
texts), or the check's generic ``motivo_padrao``. Never an exception's text:
the library's messages name hosts, ports and worker names (e.g. "Celery
worker celery@host response was incorrect", a database error's first line).
The details go to the log, where the library writes them (logger
``health_check``, level WARNING, with the traceback).
"""

from __future__ import annotations

import dataclasses
import datetime
import typing

import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from . import deadman


class Problema(ServiceUnavailable):
    """A failed check with a reason safe to show: ``codigo`` (stable) and ``motivo`` (pt-BR)."""

    def __init__(self, codigo: str, motivo: str):
        super().__init__(motivo)
        self.codigo = codigo
        self.motivo = motivo


class Aviso(ServiceWarning):
    """Like :class:`Problema`, but the service works: reported, readiness stays green."""

    def __init__(self, codigo: str, motivo: str):
        super().__init__(motivo)
        self.codigo = codigo
        self.motivo = motivo


def url_do_broker() -> str:
    """``CELERY_BROKER_URL`` as redis-py reads it (kombu's ``redis+socket://`` is ``unix://``)."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis+socket://"):
        return "unix://" + url.removeprefix("redis+socket://")
    return url


def broker_e_redis() -> bool:
    """True when the broker is Redis (``redis://``, ``rediss://``, ``redis+socket://``)."""
    return settings.CELERY_BROKER_URL.split("://", 1)[0] in {"redis", "rediss", "redis+socket"}


def _cliente_redis() -> redis.Redis:
    # Short timeouts: a probe must answer within a couple of seconds, broker down or not.
    t = settings.SAUDE_TIMEOUT_SEGUNDOS
    return redis.Redis.from_url(url_do_broker(), socket_connect_timeout=t, socket_timeout=t)


@dataclasses.dataclass
class Banco(Database):
    """``SELECT 1`` on the default database (django-health-check's Database check)."""

    nome: typing.ClassVar[str] = "banco"
    codigo_padrao: typing.ClassVar[str] = "banco_indisponivel"
    motivo_padrao: typing.ClassVar = gettext_lazy("Banco de dados indisponível.")
    timeout = datetime.timedelta(seconds=2)


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker answers: Redis ``PING``, or an AMQP connection (RabbitMQ)."""

    nome: typing.ClassVar[str] = "broker"
    codigo_padrao: typing.ClassVar[str] = "broker_indisponivel"
    motivo_padrao: typing.ClassVar = gettext_lazy("Broker (fila de tarefas) indisponível.")
    timeout = datetime.timedelta(seconds=2)

    def run(self) -> None:
        if broker_e_redis():
            cliente = _cliente_redis()
            try:
                cliente.ping()
            except redis.RedisError as erro:
                raise Problema("broker_indisponivel", str(self.motivo_padrao)) from erro
            finally:
                cliente.close()
            return
        from kombu import Connection

        try:
            with Connection(
                settings.CELERY_BROKER_URL, connect_timeout=settings.SAUDE_TIMEOUT_SEGUNDOS
            ) as conexao:
                conexao.ensure_connection(max_retries=0)  # 0: no retry
        except Exception as erro:  # kombu raises the transport's own errors
            raise Problema("broker_indisponivel", str(self.motivo_padrao)) from erro


@dataclasses.dataclass
class PoliticaDeMemoria(HealthCheck):
    """A Redis broker must not evict keys: ``maxmemory-policy`` must be ``noeviction``.

    An evicting Redis drops queued tasks silently under memory pressure
    (https://redis.io/docs/latest/develop/reference/eviction/). Reported as a
    warning, not red: the site works, and a load balancer must not take it
    out of service for a setting. ``CONFIG GET`` refused (managed Redis, a
    renamed command): the policy is unknown, a warning too.
    """

    nome: typing.ClassVar[str] = "politica_de_memoria_do_broker"
    codigo_padrao: typing.ClassVar[str] = "politica_desconhecida"
    motivo_padrao: typing.ClassVar = gettext_lazy("Política de memória do broker desconhecida.")
    timeout = datetime.timedelta(seconds=2)

    def run(self) -> None:
        cliente = _cliente_redis()
        try:
            politica = cliente.config_get("maxmemory-policy").get("maxmemory-policy")
        except redis.RedisError as erro:  # refused, or Redis down (the broker check says so)
            raise Aviso("politica_desconhecida", str(self.motivo_padrao)) from erro
        finally:
            cliente.close()
        if politica is None:
            raise Aviso("politica_desconhecida", str(self.motivo_padrao))
        if politica != "noeviction":
            raise Aviso(
                "broker_pode_descartar_tarefas",
                _(
                    "O broker descarta chaves quando a memória acaba (maxmemory-policy "
                    "diferente de noeviction): tarefas na fila podem se perder."
                ),
            )


@dataclasses.dataclass
class Trabalhadores(Ping):
    """At least one Celery worker answers a ping within ``SAUDE_TIMEOUT_SEGUNDOS``.

    django-health-check's Ping (its reply check) with ``limit=1``: the answer comes as soon as
    one worker replies, instead of waiting the whole timeout for all of them.
    Its per-queue check is left out: it asks every worker again
    (``inspect().active_queues()``, another full timeout) and names the
    queue's workers in its message. The sweep's queue is covered anyway:
    without a consumer there, the dead-man check turns red.
    """

    nome: typing.ClassVar[str] = "trabalhadores"
    codigo_padrao: typing.ClassVar[str] = "nenhum_worker"
    motivo_padrao: typing.ClassVar = gettext_lazy("Nenhum worker do Celery respondeu.")

    def __post_init__(self) -> None:
        from core.celery import app

        self.app = app
        self.limit = 1
        self.timeout = datetime.timedelta(seconds=settings.SAUDE_TIMEOUT_SEGUNDOS)

    def run(self) -> None:
        # Ping.run, on a connection made first without retries: with the
        # broker down, the ping's own publish retries for about 7 s (measured),
        # past the probe's budget; this fails in well under a second.
        try:
            with self.app.connection_for_write(url=settings.CELERY_BROKER_URL) as conexao:
                conexao.ensure_connection(max_retries=0)
                respostas = self.app.control.ping(
                    timeout=self.timeout.total_seconds(), limit=self.limit, connection=conexao
                )
            if not respostas:
                raise ServiceUnavailable("Celery workers unavailable")
            list(self.active_workers(respostas))  # the library's check of each reply
        except Exception as erro:  # kombu's errors, the library's: never their text
            raise Problema("nenhum_worker", str(self.motivo_padrao)) from erro

    def check_active_queues(self, *active_workers) -> None:
        return None


@dataclasses.dataclass
class Varredura(HealthCheck):
    """The dead-man check: the sweep ran recently enough for its schedule (``deadman.avaliar``).

    Runs in the request's thread (``sync_to_async``, thread-sensitive): it
    reads the database like the request does, and logs the outage's start
    and end once across the web processes (``deadman.registrar_transicao``).
    """

    nome: typing.ClassVar[str] = "varredura"
    codigo_padrao: typing.ClassVar[str] = "varredura_nao_verificada"
    motivo_padrao: typing.ClassVar = gettext_lazy("Não foi possível verificar a varredura.")
    timeout = datetime.timedelta(seconds=3)
    inicio_do_processo: datetime.datetime | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.detalhes: dict = {}

    async def run(self) -> None:
        await sync_to_async(self._run)()

    def _run(self) -> None:
        from django.utils import timezone

        try:
            avaliacao = deadman.avaliar(
                agora=timezone.now(),
                inicio_do_processo=self.inicio_do_processo or deadman.INICIO_DO_PROCESSO,
            )
        except DatabaseError as erro:
            # The database check reports the outage; this one cannot judge the
            # sweep (and must not log a crash on every probe meanwhile).
            raise Problema(self.codigo_padrao, str(self.motivo_padrao)) from erro
        deadman.registrar_transicao(avaliacao)
        self.detalhes = avaliacao.detalhes()
        if not avaliacao.ok:
            raise Problema(avaliacao.codigo, avaliacao.motivo)
        self.detalhes |= {"codigo": avaliacao.codigo, "motivo": avaliacao.motivo}


def verificacoes_de_prontidao() -> list[HealthCheck]:
    """The checks of ``/health/ready``, fresh instances for one request."""
    checks: list[HealthCheck] = [Banco(), Broker()]
    if broker_e_redis():
        checks.append(PoliticaDeMemoria())
    checks += [Trabalhadores(), Varredura()]
    return checks
