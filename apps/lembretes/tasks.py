"""Celery tasks of the reminders, on the ``lembretes`` queue: thin, ids in, one service each.

Both run with the project's ``acks_late`` + ``reject_on_worker_lost``: a
message whose worker died is delivered again, and both are harmless to run
again (see each docstring).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from . import selectors, services

logger = logging.getLogger(__name__)


def _publicar(ids: list[int]) -> None:
    """Enqueue one send task per id, in order; at the first broker failure, stop and log.

    The ids left unpublished stay pending (their ``proxima_tentativa_em`` is
    already ``LEMBRETES_REENFILEIRAR_SEGUNDOS`` ahead): the finder enqueues
    them again then. Trying each of them against a broker that is down cost
    the publish retries and connect timeout per id. The task's soft time
    limit (``SoftTimeLimitExceeded``) is never swallowed.
    """
    for posicao, lembrete_id in enumerate(ids):
        try:
            enviar_lembrete.apply_async(args=[lembrete_id])
        except SoftTimeLimitExceeded:
            raise
        except Exception as erro:  # noqa: BLE001 - the rows stay pending: enqueued again later
            logger.warning(
                "%d reminder(s) not enqueued (%s), from reminder %s on; "
                "the finder tries again in %d s",
                len(ids) - posicao,
                type(erro).__name__,
                lembrete_id,
                settings.LEMBRETES_REENFILEIRAR_SEGUNDOS,
            )
            return


@shared_task
def buscar_lembretes_devidos() -> dict[str, int]:
    """The finder, run by Beat (every minute by default): write due reminders, enqueue sends.

    Returns the counts by situation/motivo and how many were enqueued. A
    rerun, or two at once, is harmless: rows are unique per (appointment,
    rule, start), every update re-checks the row's situation, and a second
    message for the same reminder loses the send's claim.
    """
    contagem = services.buscar_devidos(now=timezone.now(), publicar=_publicar)
    logger.info("reminder finder: %s", contagem)
    return contagem


@shared_task(
    bind=True,
    max_retries=None,  # the row's tentativas decide (LEMBRETES_MAX_TENTATIVAS)
    soft_time_limit=settings.LEMBRETES_ENVIO_LIMITE_SEGUNDOS,
    time_limit=selectors.limite_duro_segundos(),
)
def enviar_lembrete(self, lembrete_id: int) -> str:
    """Send reminder ``lembrete_id`` if it is still pending; return its new situation.

    A rerun (a duplicate message, a redelivery after the worker died) finds
    the row no longer pending, or loses the claim, and returns "nada": the
    claim, not the message, decides who sends. On a transient channel error
    the row goes back to pending and the task retries itself after a short
    countdown (30 s, 60 s... at most 300 s: never a long ETA, which the
    Redis transport would redeliver after its visibility timeout); if that
    retry message is lost, the finder enqueues the row again when its
    ``proxima_tentativa_em`` comes.
    """
    resultado = services.lembrete_enviar(lembrete_id, now=timezone.now())
    if resultado.espera_segundos is not None:
        raise self.retry(countdown=resultado.espera_segundos)
    return resultado.situacao
