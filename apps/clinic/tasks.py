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
from django.utils import timezone

from core.locks import lock_exclusivo

from . import services
from .models import Agendamento

logger = logging.getLogger(__name__)


# ignore_result: nobody reads it, and with a Redis result backend a publish
# would otherwise also subscribe to the result channel, which retries for many
# seconds when Redis is down (the save that enqueued it would wait).
@shared_task(bind=True, ignore_result=True)
def processar_agendamento_especifico(self, agendamento_id: int) -> bool:
    """Close appointment ``agendamento_id`` if it is open and due; True if it closed it.

    Enqueued by the post_save signal after the commit of a past appointment.
    Returns quietly (False) when the row is gone, not due, or already closed.
    """
    agendamento = Agendamento.objects.filter(pk=agendamento_id).first()
    if agendamento is None:
        logger.info("appointment %s no longer exists; nothing to close", agendamento_id)
        return False
    atendimento = services.executar_finalizacao(
        agendamento, now=timezone.now(), task_id=self.request.id or ""
    )
    return atendimento is not None


@shared_task(bind=True)
def verificar_e_finalizar_agendamentos_passados(self) -> int | None:
    """Sweep: close every open appointment that has ended; return how many.

    Run by Celery Beat (hourly by default). Takes a Redis lock first, so a
    second overlapping run (two beats, a slow run) returns None at once
    instead of competing for the same rows; correctness does not depend on
    the lock (rows are claimed with SKIP LOCKED), only wasted work does.
    """
    nome = "verificar_e_finalizar_agendamentos_passados"
    with lock_exclusivo(
        nome, expira_em_segundos=settings.SWEEP_LOCK_TTL, dono=self.request.id or ""
    ) as obtido:
        if not obtido:
            logger.info("sweep skipped: another run holds the lock (task %s)", self.request.id)
            return None
        fechados = services.finalizar_agendamentos_vencidos(
            now=timezone.now(), task_id=self.request.id or ""
        )
    logger.info("sweep closed %d appointment(s) (task %s)", fechados, self.request.id)
    return fechados
