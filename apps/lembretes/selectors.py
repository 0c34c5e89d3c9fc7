"""Reads of the reminders: what is due, what waits to be sent, what is stale.

Every query here is set-based and bounded by ``lote`` rows; the writers in
``services.py`` loop over them in batches.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from apps.clinic.models import Agendamento

from .models import Lembrete, RegraLembrete

LOTE = 500


def regras_ativas() -> QuerySet[RegraLembrete]:
    """The active rules, in the model's order."""
    return RegraLembrete.objects.filter(ativa=True)


def agendamentos_devidos(
    regra: RegraLembrete, *, now: datetime, depois_de: tuple[datetime, int] | None, lote: int = LOTE
) -> list[tuple[int, datetime, str, str, str]]:
    """Open appointments ``regra`` is due for at ``now`` that have no reminder of it yet.

    Due: ``now < data_hora <= now + antecedencia`` (served by the partial
    index ``agendamento_aberto_inicio_idx``); "no reminder yet": no
    ``Lembrete`` for (appointment, rule, its current ``data_hora``), so a
    rescheduled appointment is due again for its new start. At most ``lote``
    rows ordered by (data_hora, id), after the key ``depois_de`` (keyset
    pagination). Rows: ``(id, data_hora, paciente.nome, paciente.email,
    paciente.telefone)``.
    """
    ja_tem = Lembrete.objects.filter(
        agendamento=OuterRef("pk"), regra=regra, inicio=OuterRef("data_hora")
    )
    consulta = Agendamento.objects.filter(
        active=True,
        data_hora__gt=now,
        data_hora__lte=now + timedelta(minutes=regra.antecedencia_minutos),
    ).filter(~Exists(ja_tem))
    if depois_de is not None:
        inicio, pk = depois_de
        consulta = consulta.filter(Q(data_hora__gt=inicio) | Q(data_hora=inicio, pk__gt=pk))
    return list(
        consulta.order_by("data_hora", "id").values_list(
            "id", "data_hora", "paciente__nome", "paciente__email", "paciente__telefone"
        )[:lote]
    )


def ids_pendentes_a_descartar(*, now: datetime, lote: int = LOTE) -> dict[str, list[int]]:
    """Pending reminders that must never go out, by ``Lembrete.Motivo``: up to ``lote`` ids each.

    - agendamento_fechado: the appointment was cancelled, missed or closed;
    - remarcado: the appointment's start is no longer the reminder's ``inicio``;
    - regra_inativa: the rule was switched off;
    - janela_passada: past ``previsto_para + tolerancia``, or the start.
    """
    Motivo = Lembrete.Motivo
    pendentes = Lembrete.objects.filter(situacao=Lembrete.Situacao.PENDENTE)
    ids = lambda q: list(q.order_by("id").values_list("id", flat=True)[:lote])  # noqa: E731
    por_motivo = {
        Motivo.AGENDAMENTO_FECHADO: ids(pendentes.filter(agendamento__active=False)),
        Motivo.REMARCADO: ids(
            pendentes.filter(agendamento__active=True).exclude(agendamento__data_hora=F("inicio"))
        ),
        Motivo.REGRA_INATIVA: ids(pendentes.filter(regra__ativa=False)),
    }
    janela = Q(inicio__lte=now)
    for regra_id, tolerancia in RegraLembrete.objects.values_list("id", "tolerancia_minutos"):
        janela |= Q(regra_id=regra_id, previsto_para__lt=now - timedelta(minutes=tolerancia))
    por_motivo[Motivo.JANELA_PASSADA] = ids(pendentes.filter(janela))
    return por_motivo


def ids_interrompidos(*, now: datetime, lote: int = LOTE) -> list[int]:
    """Reminders claimed (``enviando``) longer ago than the send task's hard time limit.

    Their worker died mid-send (or the row was left by a bug): whether the
    channel took the message is unknown. ``updated_at`` is the claim's time.
    """
    limite = now - timedelta(seconds=prazo_enviando_segundos())
    return list(
        Lembrete.objects.filter(situacao=Lembrete.Situacao.ENVIANDO, updated_at__lt=limite)
        .order_by("id")
        .values_list("id", flat=True)[:lote]
    )


def prazo_enviando_segundos() -> int:
    """Seconds after which a claimed reminder counts as interrupted: hard limit + 60 s."""
    return limite_duro_segundos() + 60


def limite_duro_segundos() -> int:
    """The send task's hard time limit (seconds): the soft limit + 15 s."""
    return settings.LEMBRETES_ENVIO_LIMITE_SEGUNDOS + 15


def pendentes_a_enfileirar(*, now: datetime) -> QuerySet[Lembrete]:
    """Pending reminders whose time came (``proxima_tentativa_em <= now``), oldest first.

    Unsliced, for the caller to lock (``select_for_update(skip_locked=True)``)
    and slice; served by the partial index ``lembrete_pendente_idx``.
    """
    return Lembrete.objects.filter(
        situacao=Lembrete.Situacao.PENDENTE, proxima_tentativa_em__lte=now
    ).order_by("proxima_tentativa_em", "id")
