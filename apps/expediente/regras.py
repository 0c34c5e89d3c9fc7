"""The working-hours rule every booking and reschedule obeys (registered in ``apps.py``).

Whether an appointment ``[inicio, fim)`` fits is decided by :func:`motivo_recusa`
from the dentist's working day (``selectors.expediente``); the free slots
(``disponibilidade``) offer only starts it accepts.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import DiaSemana
from .selectors import DiaDeTrabalho, dia_de_trabalho


def _hhmm(instante: datetime) -> str:
    return timezone.localtime(instante).strftime("%H:%M")


def descrever_dia(dia: DiaDeTrabalho) -> str:
    """The day's hours in pt-BR: ``"das 08:00 às 12:00 e das 13:00 às 18:00"`` ("": none).

    Three or more periods: ``"das 08:00 às 10:00, das 11:00 às 12:00 e das ..."``.
    """
    partes = [
        _("das %(inicio)s às %(fim)s") % {"inicio": _hhmm(ini), "fim": _hhmm(fim)}
        for ini, fim in dia.periodos
    ]
    if len(partes) <= 1:
        return "".join(partes)
    return _("%(lista)s e %(ultimo)s") % {"lista": ", ".join(partes[:-1]), "ultimo": partes[-1]}


def cabe_no_dia(dia: DiaDeTrabalho, inicio: datetime, fim: datetime) -> bool:
    """True when ``[inicio, fim)`` (aware) lies inside one of ``dia``'s periods."""
    return any(ini <= inicio and fim <= fim_p for ini, fim_p in dia.periodos)


def _nome_do_dia(dia: date) -> str:
    """``"na quarta-feira, 02/12/2026"`` / ``"no sábado, 05/12/2026"`` (pt-BR)."""
    preposicao = _("no") if dia.weekday() >= 5 else _("na")
    return f"{preposicao} {DiaSemana(dia.weekday()).label}, {dia:%d/%m/%Y}"


def motivo_recusa(dentista_id: int, inicio: datetime, fim: datetime) -> str | None:
    """Why ``[inicio, fim)`` (aware) is outside the dentist's hours, in pt-BR; None if it fits.

    None too when the dentist has no weekly plan (no rule for them). The
    day is the one ``inicio`` falls on in the clinic's zone. The messages,
    always one of two sentences:

    - the dentist does not work that day: ``"O dentista não atende na
      sexta-feira, 25/12/2026: feriado nacional: Natal."`` (or "férias",
      "clínica fechada: <descrição>", "não há expediente nesse dia");
    - the time is outside the day's periods: ``"Fora do expediente do
      dentista na quarta-feira, 02/12/2026, que é das 08:00 às 12:00 e das
      13:00 às 18:00."``, plus, when the appointment starts inside a period
      and runs past its end, ``": o atendimento terminaria às 18:15"`` (or
      ``"passaria da meia-noite"``) before the full stop, and a partial
      absence's reason in parentheses.
    """
    local = timezone.localtime(inicio)
    dia = dia_de_trabalho(dentista_id, local.date())
    if not dia.planejado or cabe_no_dia(dia, inicio, fim):
        return None
    nome_dia = _nome_do_dia(local.date())
    if not dia.periodos:
        return _("O dentista não atende %(dia)s: %(motivo)s.") % {
            "dia": nome_dia,
            "motivo": dia.motivo or _("não há expediente nesse dia"),
        }
    mensagem = _("Fora do expediente do dentista %(dia)s, que é %(horarios)s") % {
        "dia": nome_dia,
        "horarios": descrever_dia(dia),
    }
    comeca_dentro = any(ini <= inicio < fim_p for ini, fim_p in dia.periodos)
    if timezone.localtime(fim).date() != local.date() and fim != _meia_noite_seguinte(local):
        mensagem += _(": o atendimento passaria da meia-noite")
    elif comeca_dentro:
        mensagem += _(": o atendimento terminaria às %(fim)s") % {"fim": _hhmm(fim)}
    if dia.motivo:
        mensagem += " " + _("(%(motivo)s)") % {"motivo": dia.motivo}
    return mensagem + "."


def _meia_noite_seguinte(local: datetime) -> datetime:
    """The instant the next day of ``local`` (aware, local) begins."""
    return datetime.combine(local.date() + timedelta(days=1), time.min, tzinfo=local.tzinfo)


def validar_expediente(agendamento) -> None:
    """The rule registered with ``apps.clinic.regras``: raise ``ValidationError`` outside hours.

    Reads ``agendamento.dentista_id``, the aware ``data_hora`` and
    ``fim_calculado`` (minutes from ``duracao_minutos``); the message is
    :func:`motivo_recusa`'s, on the field ``data_hora``.
    """
    if agendamento.dentista_id is None or agendamento.data_hora is None:
        return
    motivo = motivo_recusa(
        agendamento.dentista_id, agendamento.data_hora, agendamento.fim_calculado
    )
    if motivo:
        raise ValidationError({"data_hora": motivo})
