"""Enqueue the closing of an appointment that is saved already ended; the demo's signal."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver
from django.utils import timezone

from .models import Agendamento
from .selectors import agendamento_esta_vencido

logger = logging.getLogger(__name__)

# Sent by ``manage.py demo`` once its users, dentist and appointments exist,
# inside its transaction (a receiver's error undoes the whole demo), with
# ``dentistas``: the list of demo ``Dentista`` rows. Other apps add their
# demo data from it (apps.expediente: the dentists' weekly plans) without
# the clinic importing them.
demo_criada = Signal()


def enfileirar_finalizacao(agendamento_id: int) -> bool:
    """Publish ``processar_agendamento_especifico(agendamento_id)``; True if published.

    Never raises: when the broker is unreachable the publish gives up after
    ``CELERY_TASK_PUBLISH_RETRY_POLICY`` (under a second), the failure is
    logged with the appointment id only (no personal data), and the periodic
    sweep closes the appointment later.
    """
    from .tasks import processar_agendamento_especifico

    try:
        processar_agendamento_especifico.delay(agendamento_id)
    except Exception as exc:  # broker down, DNS, timeouts: the save must not fail
        logger.warning(
            "could not enqueue closing of appointment %s (%s: %s); the sweep will close it",
            agendamento_id,
            type(exc).__name__,
            exc,
        )
        return False
    return True


@receiver(post_save, sender=Agendamento, dispatch_uid="clinic.agendamento_vencido_enfileirar")
def agendamento_salvo(sender, instance: Agendamento, raw: bool = False, **kwargs) -> None:
    """After the commit of a save of an open, already ended appointment, enqueue its closing.

    ``transaction.on_commit``: the worker must never look for a row that is
    not committed yet, and a rolled-back save must publish nothing.
    """
    if raw or not agendamento_esta_vencido(instance, now=timezone.now()):
        return
    transaction.on_commit(partial(enfileirar_finalizacao, instance.pk), robust=True)
