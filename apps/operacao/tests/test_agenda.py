"""The sweep's period and deadline, computed from django-celery-beat's schedules."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule

from apps.clinic.tests.relogio import AGORA, SP
from apps.operacao import agenda


def _crontab(minuto="0", hora="*", dia_semana="*"):
    return CrontabSchedule(
        minute=minuto,
        hour=hora,
        day_of_week=dia_semana,
        day_of_month="*",
        month_of_year="*",
        timezone="America/Sao_Paulo",
    ).schedule


def _intervalo(segundos: int):
    return IntervalSchedule(every=segundos, period=IntervalSchedule.SECONDS).schedule


def _em(dia: int, hora: int, minuto: int = 0) -> datetime:
    return datetime(2026, 12, dia, hora, minuto, tzinfo=SP)


def test_an_interval_period_is_its_length_and_its_deadline_twice_it_after_the_last_start():
    s = _intervalo(60)
    assert agenda.periodo_em_torno(s, agora=AGORA) == timedelta(seconds=60)
    assert agenda.prazo(s, ultima=AGORA, agora=AGORA) == AGORA + timedelta(seconds=120)
    # Long ago: still two periods after that start (beat's interval counts from the last run).
    antiga = AGORA - timedelta(days=3)
    assert agenda.prazo(s, ultima=antiga, agora=AGORA) == antiga + timedelta(seconds=120)


@pytest.mark.parametrize(
    ("cron", "agora", "periodo"),
    [
        (("0",), _em(2, 10, 0), timedelta(hours=1)),
        (("*/5",), _em(2, 23, 50), timedelta(minutes=5)),
        # A daily sweep, read just before and after midnight.
        (("0", "0"), _em(2, 23, 50), timedelta(days=1)),
        (("0", "0"), _em(3, 0, 10), timedelta(days=1)),
        # Business hours: at 23:00 the next two runs are 08:00 and 09:00.
        (("0", "8-18"), _em(2, 23, 0), timedelta(hours=1)),
    ],
)
def test_a_crontab_period_is_the_gap_between_its_next_two_runs(cron, agora, periodo):
    assert agenda.periodo_em_torno(_crontab(*cron), agora=agora) == periodo


def test_a_crontab_deadline_is_its_second_run_after_the_last_start():
    hora_em_hora = _crontab("0")
    assert agenda.prazo(hora_em_hora, ultima=_em(2, 9, 30), agora=AGORA) == _em(2, 11)
    assert agenda.prazo(hora_em_hora, ultima=_em(2, 23, 50), agora=_em(3, 0, 10)) == _em(3, 1)
    # Weekdays only: a Friday 18:00 run is next due Monday 08:00, late at Monday 09:00,
    # not over the weekend. 2026-12-04 is a Friday.
    comercial = _crontab("0", "8-18", "1-5")
    assert agenda.prazo(comercial, ultima=_em(4, 18), agora=_em(5, 12)) == _em(7, 9)


def test_a_one_off_clocked_schedule_has_no_period():
    unica = ClockedSchedule(clocked_time=AGORA).schedule
    with pytest.raises(agenda.AgendaSemPeriodo):
        agenda.periodo_em_torno(unica, agora=AGORA)
