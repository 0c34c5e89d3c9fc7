"""Celery tasks: thin wrappers that re-fetch by id and call one service.

Both are idempotent (the services claim rows before closing them and the
database allows one visit record per appointment), which is why the project
runs them with ``acks_late`` + ``reject_on_worker_lost``: a message whose
worker died is delivered again, and running it again is harmless.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from core.locks import lock_exclusivo

from . import services
from .models import Agendamento, ExecucaoVarredura

logger = logging.getLogger(__name__)


# Retries of a close whose row another transaction held (see the task's docstring).
RETENTATIVAS_SE_OCUPADO = 5
ESPERA_MAXIMA_SEGUNDOS = 16


# Its result (True/False and the id in its args) is kept in the database result
# backend for the gestor's admin. Publishing touches no result store there (a
# Redis result backend made the publish subscribe to a result channel, which
# retried for seconds with Redis down, so this task used ignore_result).
@shared_task(bind=True, max_retries=RETENTATIVAS_SE_OCUPADO)
def processar_agendamento_especifico(self, agendamento_id: int) -> bool:
    """Close appointment ``agendamento_id`` if it is open and due; True if it closed it.

    Enqueued by the post_save signal after the commit of a past appointment.
    Returns quietly (False) when the row is gone, not due, or already closed.

    When another transaction holds the row (booked, then confirmed at once:
    the confirm's transaction is still open when this runs), the claim skips
    it (``SKIP LOCKED``) and the service raises ``AgendamentoOcupado``; the
    task then retries itself after 1, 2, 4, 8 and 16 s (``self.retry``, at
    most ``RETENTATIVAS_SE_OCUPADO`` times, 31 s in all) instead of leaving
    the row to the next sweep (an hour by default). After the last retry it
    returns False and the sweep is the safety net.

    A short countdown is safe with the Redis transport: a retry is a new
    message with an ETA, which the worker reserves at once and holds
    unacknowledged until it is due; Redis hands an unacknowledged message to
    another worker only after ``visibility_timeout`` (3600 s, checked at
    start-up to exceed the hard time limit), far beyond 16 s, so the retry is
    not delivered twice. A rerun is harmless anyway: the close claims the row
    and the database allows one visit record per appointment.
    https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying
    https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
    """
    agendamento = Agendamento.objects.filter(pk=agendamento_id).first()
    if agendamento is None:
        logger.info("appointment %s no longer exists; nothing to close", agendamento_id)
        return False
    try:
        atendimento = services.executar_finalizacao(
            agendamento,
            now=timezone.now(),
            task_id=self.request.id or "",
            erro_se_ocupado=True,
        )
    except services.AgendamentoOcupado as ocupado:
        if self.request.retries >= self.max_retries:
            logger.warning(
                "appointment %s still locked after %d retries; the sweep will close it",
                agendamento_id,
                self.request.retries,
            )
            return False
        espera = min(2**self.request.retries, ESPERA_MAXIMA_SEGUNDOS)
        logger.info(
            "appointment %s is locked by another transaction; retrying in %d s",
            agendamento_id,
            espera,
        )
        raise self.retry(exc=ocupado, countdown=espera) from None
    return atendimento is not None


@shared_task(bind=True)
def verificar_e_finalizar_agendamentos_passados(self) -> int | None:
    """Sweep: close every open appointment that has ended; return how many.

    Run by Celery Beat (hourly by default). Takes a Redis lock first, so a
    second overlapping run (two beats, a slow run) returns None at once
    instead of competing for the same rows; correctness does not depend on
    the lock (rows are claimed with SKIP LOCKED), only wasted work does.

    Each run is recorded in ``ExecucaoVarredura`` (start; then end, closed
    and bad-row counts, and whether it was skipped for the lock or failed):
    the dead-man check of ``/health/ready`` reads it. A rerun adds a row.
    """
    Resultado = ExecucaoVarredura.Resultado
    execucao = ExecucaoVarredura.objects.create(
        task_id=self.request.id or "", iniciada_em=timezone.now()
    )
    ignorados: set[int] = set()
    try:
        fechados = _varrer(self, ignorados)
    except BaseException:  # the soft time limit too: recorded, then re-raised
        _registrar_fim(execucao, Resultado.FALHOU, ignorados=len(ignorados))
        raise
    if fechados is None:
        _registrar_fim(execucao, Resultado.PULADA)
    else:
        _registrar_fim(execucao, Resultado.CONCLUIDA, fechados=fechados, ignorados=len(ignorados))
    return fechados


def _varrer(self, ignorados: set[int]) -> int | None:
    """The sweep under its lock (``self``: the task); None when another run holds it.

    The ids of bad rows it leaves open are added to ``ignorados``.
    """
    nome = "verificar_e_finalizar_agendamentos_passados"
    with lock_exclusivo(
        nome, expira_em_segundos=settings.SWEEP_LOCK_TTL, dono=self.request.id or ""
    ) as obtido:
        if not obtido:
            logger.info("sweep skipped: another run holds the lock (task %s)", self.request.id)
            return None
        fechados = services.finalizar_agendamentos_vencidos(
            now=timezone.now(), task_id=self.request.id or "", ignorados=ignorados
        )
    logger.info("sweep closed %d appointment(s) (task %s)", fechados, self.request.id)
    return fechados


def _registrar_fim(execucao: ExecucaoVarredura, resultado: str, **contagens: int) -> None:
    """Complete the run's record and keep only the newest ``VARREDURA_EXECUCOES_MANTIDAS``.

    A database error here is logged, never raised: it must not turn a sweep
    that closed its rows into a failed task, nor hide the error of one that failed.
    """
    try:
        ExecucaoVarredura.objects.filter(pk=execucao.pk).update(
            terminada_em=timezone.now(), resultado=resultado, **contagens
        )
        corte = ExecucaoVarredura.objects.order_by("-id").values_list("id", flat=True)[
            settings.VARREDURA_EXECUCOES_MANTIDAS :
        ][:1]
        if corte:
            ExecucaoVarredura.objects.filter(id__lte=corte[0]).delete()
    except DatabaseError as erro:
        logger.warning("sweep run %s could not be recorded (%s)", execucao.pk, type(erro).__name__)
