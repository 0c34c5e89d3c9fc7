"""Writes of the clinic's data. The only code that changes ``status``/``active``.

Every service takes ``now`` (an aware datetime) where time matters, so tests
control the clock; callers pass ``django.utils.timezone.now()``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Agendamento, Atendimento, Dentista, HistoricoStatus, Paciente
from .selectors import agendamentos_vencidos

logger = logging.getLogger(__name__)

# The clinic's own wording for records written by the closing job.
DIAGNOSTICO_AUTOMATICO = "Consulta finalizada automaticamente via sistema"
TRATAMENTO_PADRAO = "Realizado conforme agendamento"
MOTIVO_FINALIZACAO_AUTOMATICA = "Finalizado automaticamente: o horário do agendamento terminou."


def agendamento_criar(
    *,
    paciente: Paciente,
    dentista: Dentista,
    data_hora: datetime,
    duracao_minutos: int = 30,
    observacoes: str = "",
    usuario=None,
    now: datetime | None = None,
) -> Agendamento:
    """Book an appointment and record its first status (agendado) in the history.

    ``data_hora`` is the aware start; ``duracao_minutos`` is in minutes
    (5–480). Raises ``django.core.exceptions.ValidationError`` (pt-BR messages
    by field) on invalid input; nothing is saved then. If the appointment has
    already ended, the post_save signal enqueues its closing after commit.
    """
    now = now or timezone.now()
    agendamento = Agendamento(
        paciente=paciente,
        dentista=dentista,
        data_hora=data_hora,
        duracao_minutos=duracao_minutos,
        observacoes=observacoes,
    )
    agendamento.full_clean()
    with transaction.atomic():
        agendamento.save()
        HistoricoStatus.objects.create(
            agendamento=agendamento,
            status_anterior="",
            status_novo=agendamento.status,
            registrado_em=now,
            usuario=usuario,
        )
    return agendamento


def executar_finalizacao(
    agendamento: Agendamento, *, now: datetime, task_id: str = "", usuario=None
) -> Atendimento | None:
    """Close one appointment if it is open and due at ``now`` (aware datetime).

    Closing sets ``status=concluido`` and ``active=False``, appends a history
    row (actor: ``usuario`` when a person asked for it, else the system, with
    ``task_id`` when a Celery task does it) and
    creates the automatic ``Atendimento``. Returns that ``Atendimento``, or
    ``None`` when there was nothing to do: not due yet, already closed
    (including ``faltou``/``cancelado``), gone, or being closed right now by
    another process. Safe to call any number of times, concurrently.
    """
    fechados = _finalizar_lote(
        agendamentos_vencidos(now=now).filter(pk=agendamento.pk),
        now=now,
        task_id=task_id,
        limite=1,
        usuario=usuario,
    )
    if not fechados:
        return None
    agendamento.status = Agendamento.Status.CONCLUIDO
    agendamento.active = False
    return Atendimento.objects.get(agendamento_id=agendamento.pk)


def finalizar_agendamentos_vencidos(
    *, now: datetime, task_id: str = "", tamanho_lote: int | None = None
) -> int:
    """Close every appointment that is open and due at ``now``; return how many.

    The batch twin of :func:`executar_finalizacao`, with the same effects per
    row. Works set-based, ``tamanho_lote`` rows (default
    ``FINALIZACAO_TAMANHO_LOTE``) per transaction: a crash loses at most the
    batch in flight, and that batch is rolled back whole. Rows that another
    process has locked are skipped (that process closes them).
    """
    tamanho_lote = tamanho_lote or settings.FINALIZACAO_TAMANHO_LOTE
    total = 0
    while True:
        fechados = _finalizar_lote(
            agendamentos_vencidos(now=now), now=now, task_id=task_id, limite=tamanho_lote
        )
        total += fechados
        if fechados < tamanho_lote:
            return total


def _finalizar_lote(
    vencidos: QuerySet[Agendamento], *, now: datetime, task_id: str, limite: int, usuario=None
) -> int:
    """Close up to ``limite`` rows of ``vencidos`` in one transaction; return the count.

    1. Claim: ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL). Rows another
       transaction holds are skipped, and a row closed by a transaction that
       committed meanwhile is re-checked by PostgreSQL and dropped. On SQLite
       the IMMEDIATE transaction holds the database's write lock instead.
    2. One ``UPDATE`` of the claimed rows, two bulk ``INSERT``s (history,
       visit records). The visit-record insert ignores conflicts on the
       unique one-to-one: the database is the last guard against a double.
    """
    with transaction.atomic():
        linhas = list(
            vencidos.select_for_update(skip_locked=True).values_list("id", "status", "observacoes")[
                :limite
            ]
        )
        if not linhas:
            return 0
        ids = [linha[0] for linha in linhas]
        atualizados = Agendamento.objects.filter(id__in=ids, active=True).update(
            status=Agendamento.Status.CONCLUIDO, active=False, updated_at=now
        )
        if atualizados != len(ids):  # impossible while the rows are locked
            raise RuntimeError(
                f"claimed {len(ids)} appointments but closed {atualizados}; rolling back"
            )
        HistoricoStatus.objects.bulk_create(
            HistoricoStatus(
                agendamento_id=id_,
                status_anterior=status,
                status_novo=Agendamento.Status.CONCLUIDO,
                registrado_em=now,
                usuario=usuario,
                task_id=task_id or "",
                motivo=MOTIVO_FINALIZACAO_AUTOMATICA,
            )
            for id_, status, _obs in linhas
        )
        Atendimento.objects.bulk_create(
            (
                Atendimento(
                    agendamento_id=id_,
                    diagnostico=DIAGNOSTICO_AUTOMATICO,
                    tratamento_realizado=observacoes if observacoes.strip() else TRATAMENTO_PADRAO,
                    origem=Atendimento.Origem.AUTOMATICO,
                )
                for id_, _status, observacoes in linhas
            ),
            ignore_conflicts=True,
        )
    logger.info("closed %d appointment(s) (task %s)", len(ids), task_id or "-")
    return len(ids)


NOME_TAREFA_PERIODICA = "Finalizar agendamentos passados"
TAREFA_VARREDURA = "apps.clinic.tasks.verificar_e_finalizar_agendamentos_passados"


def agenda_finalizacao_garantir() -> bool:
    """Create the sweep's entry in django-celery-beat's schedule if it is missing.

    The schedule comes from ``FINALIZACAO_INTERVALO_SEGUNDOS`` when it is
    above 0 (an interval in seconds), else from ``FINALIZACAO_CRONTAB``
    (five crontab fields, in ``TIME_ZONE``; default ``0 * * * *``, hourly).
    An existing entry is left alone: once created, the admin ("Periodic
    tasks") is where the schedule is edited. Returns True if it created one.
    Raises ``ValueError`` for a crontab that does not have five fields.
    """
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    if PeriodicTask.objects.filter(name=NOME_TAREFA_PERIODICA).exists():
        return False
    campos: dict = {}
    if settings.FINALIZACAO_INTERVALO_SEGUNDOS > 0:
        campos["interval"], _ = IntervalSchedule.objects.get_or_create(
            every=settings.FINALIZACAO_INTERVALO_SEGUNDOS, period=IntervalSchedule.SECONDS
        )
    else:
        partes = settings.FINALIZACAO_CRONTAB.split()
        if len(partes) != 5:
            raise ValueError(
                f"FINALIZACAO_CRONTAB needs 5 fields, got {settings.FINALIZACAO_CRONTAB!r}"
            )
        minuto, hora, dia_mes, mes, dia_semana = partes
        campos["crontab"], _ = CrontabSchedule.objects.get_or_create(
            minute=minuto,
            hour=hora,
            day_of_month=dia_mes,
            month_of_year=mes,
            day_of_week=dia_semana,
            timezone=settings.TIME_ZONE,
        )
    PeriodicTask.objects.create(
        name=NOME_TAREFA_PERIODICA,
        task=TAREFA_VARREDURA,
        description="Fecha os agendamentos cujo horário terminou (NEXKODONTO).",
        **campos,
    )
    return True


__all__ = [
    "DIAGNOSTICO_AUTOMATICO",
    "TRATAMENTO_PADRAO",
    "agenda_finalizacao_garantir",
    "agendamento_criar",
    "executar_finalizacao",
    "finalizar_agendamentos_vencidos",
]
