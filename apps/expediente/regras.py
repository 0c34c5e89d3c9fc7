"""The working-hours rule every booking and reschedule obeys (registered in ``apps.py``).

Whether an appointment ``[inicio, fim)`` fits is decided by :func:`motivo_recusa`
from the dentist's working day (``selectors.expediente``); the free slots
(``disponibilidade``) offer only starts it accepts.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import DiaSemana
from .selectors import DiaDeTrabalho, dia_de_trabalho


def _hhmm(instante: datetime) -> str:
    return timezone.localtime(instante).strftime("%H:%M")


def descrever_dia(dia: DiaDeTrabalho) -> str:
    """The day's hours in pt-BR: ``"08:00–12:00 e 13:00–18:00"`` (empty: no period)."""
    partes = [f"{_hhmm(ini)}–{_hhmm(fim)}" for ini, fim in dia.periodos]
    if len(partes) <= 1:
        return "".join(partes)
    return _("%(lista)s e %(ultimo)s") % {"lista": ", ".join(partes[:-1]), "ultimo": partes[-1]}


def cabe_no_dia(dia: DiaDeTrabalho, inicio: datetime, fim: datetime) -> bool:
    """True when ``[inicio, fim)`` (aware) lies inside one of ``dia``'s periods."""
    return any(ini <= inicio and fim <= fim_p for ini, fim_p in dia.periodos)


def motivo_recusa(dentista_id: int, inicio: datetime, fim: datetime) -> str | None:
    """Why ``[inicio, fim)`` (aware) is outside the dentist's hours, in pt-BR; None if it fits.

    None too when the dentist has no weekly plan (no rule for them). The
    message names the day and its hours, or why the dentist does not work
    that day (a holiday, vacation, a closure).
    """
    local = timezone.localtime(inicio)
    dia = dia_de_trabalho(dentista_id, local.date())
    if not dia.planejado or cabe_no_dia(dia, inicio, fim):
        return None
    preposicao = _("no") if local.weekday() >= 5 else _("na")  # no sábado, na segunda-feira
    nome_dia = f"{preposicao} {DiaSemana(local.weekday()).label}, {local:%d/%m/%Y}"
    if not dia.periodos:
        return _("O dentista não atende %(dia)s: %(motivo)s.") % {
            "dia": nome_dia,
            "motivo": dia.motivo or _("não há expediente nesse dia"),
        }
    mensagem = _("Fora do expediente do dentista %(dia)s, que é %(horarios)s.") % {
        "dia": nome_dia,
        "horarios": descrever_dia(dia),
    }
    if dia.motivo:
        mensagem = mensagem[:-1] + " " + _("(%(motivo)s).") % {"motivo": dia.motivo}
    return mensagem


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
