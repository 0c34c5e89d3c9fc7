"""The sweep's schedule as the admin holds it in django-celery-beat, and its deadlines.

The dead-man rule: after the sweep's last run started at ``L``, the next two
scheduled times after ``L`` are ``f1`` and ``f2``; the run due at ``f1`` must
have started by ``f2``. For an interval of ``P`` seconds that is ``L + 2P``
("older than twice the period"); for a crontab it follows the crontab itself,
so an hourly-on-weekdays sweep is not late over the weekend. Celery computes
the scheduled times (``remaining_estimate``, the same call beat uses), with
its clock pinned to ``agora`` so one answer reads one instant.
https://docs.celeryq.dev/en/stable/reference/celery.schedules.html
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import schedules

from apps.clinic.services import TAREFA_VARREDURA


class AgendaSemPeriodo(ValueError):
    """The entry's schedule does not repeat (a one-off "clocked" time)."""


def proxima_execucao(agenda: schedules.BaseSchedule, *, depois_de: datetime, agora: datetime):
    """The first time ``agenda`` fires after ``depois_de`` (aware datetimes, any zone).

    ``agenda``: a Celery schedule (``PeriodicTask.schedule``: interval,
    crontab, solar). ``agora`` is the clock the schedule reads. Raises
    ``AgendaSemPeriodo`` for a schedule that does not repeat.
    """
    if isinstance(agenda, schedules.schedule) and not isinstance(agenda, schedules.crontab):
        if agenda.run_every.total_seconds() <= 0:
            raise AgendaSemPeriodo("interval of 0 seconds")
    elif not isinstance(agenda, schedules.crontab | schedules.solar):
        raise AgendaSemPeriodo(type(agenda).__name__)
    fixa = copy.copy(agenda)
    fixa.nowfun = lambda: agora
    return agora + fixa.remaining_estimate(depois_de)


def prazo(agenda: schedules.BaseSchedule, *, ultima: datetime, agora: datetime) -> datetime:
    """When a sweep that last started at ``ultima`` is late: the 2nd scheduled time after it."""
    primeira = proxima_execucao(agenda, depois_de=ultima, agora=agora)
    return proxima_execucao(agenda, depois_de=primeira, agora=agora)


def periodo_em_torno(agenda: schedules.BaseSchedule, *, agora: datetime) -> timedelta:
    """The schedule's period around ``agora``: between the next two scheduled times.

    An interval's period is its length; a crontab's is measured (an hourly
    crontab gives 1 hour; ``0 8-18 * * *`` at 23:00 gives 1 hour too, the
    gap between 08:00 and 09:00 tomorrow). Raises ``AgendaSemPeriodo``.
    """
    primeira = proxima_execucao(agenda, depois_de=agora, agora=agora)
    return proxima_execucao(agenda, depois_de=primeira, agora=agora) - primeira


@dataclass(frozen=True)
class EntradaDaVarredura:
    """The sweep's entries in django-celery-beat: ``ativas`` (enabled) and whether any exists."""

    existe: bool
    ativas: list


def entradas_da_varredura() -> EntradaDaVarredura:
    """Read the sweep's ``PeriodicTask`` rows (the one ``agenda_finalizacao_garantir`` creates,
    or any other entry an admin pointed at the sweep task)."""
    from django_celery_beat.models import PeriodicTask

    entradas = list(
        PeriodicTask.objects.filter(task=TAREFA_VARREDURA).select_related(
            "interval", "crontab", "solar", "clocked"
        )
    )
    return EntradaDaVarredura(existe=bool(entradas), ativas=[e for e in entradas if e.enabled])
