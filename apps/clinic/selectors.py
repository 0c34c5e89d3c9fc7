"""Reads of the clinic's data. Writes live in ``services.py``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet

from .models import Agendamento


def limite_finalizacao(*, now: datetime) -> datetime:
    """Return the instant before which an appointment's end makes it due.

    An appointment is due when ``fim + FINALIZACAO_TOLERANCIA_MINUTOS < now``,
    i.e. when ``fim < now - tolerância``. ``now`` must be an aware datetime;
    the result is aware too.
    """
    return now - timedelta(minutes=settings.FINALIZACAO_TOLERANCIA_MINUTOS)


def agendamentos_vencidos(*, now: datetime) -> QuerySet[Agendamento]:
    """Open appointments whose end (plus the grace period) is before ``now``.

    Ordered by ``(fim, id)``, the columns of the partial index
    ``agendamento_aberto_fim_idx``, so a batch ``LIMIT`` walks that index;
    ordering by ``id`` alone would make the planner walk the primary key
    over the whole table (shared/notes/sweep-measurements.md).
    """
    return Agendamento.objects.filter(active=True, fim__lt=limite_finalizacao(now=now)).order_by(
        "fim", "id"
    )


def agendamento_esta_vencido(agendamento: Agendamento, *, now: datetime) -> bool:
    """True when the in-memory ``agendamento`` is open and due at ``now`` (aware).

    Computes the end from the instance's own ``data_hora`` and
    ``duracao_minutos`` (the stored ``fim`` of an instance is only refreshed
    by a reload), so it is right right after an edit.
    """
    return (
        agendamento.status in Agendamento.STATUS_ABERTOS
        and agendamento.fim_calculado < limite_finalizacao(now=now)
    )
