"""Reads of the clinic's data. Writes live in ``services.py``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from .models import DURACAO_MAXIMA_MINUTOS, Agendamento, Atendimento, Paciente

# Statuses that hold the dentist's time (the double-booking rule).
STATUS_OCUPAM_HORARIO = ("agendado", "confirmado", "concluido")


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
    return Agendamento.objects.filter(
        active=True, fechamento_automatico=True, fim__lt=limite_finalizacao(now=now)
    ).order_by("fim", "id")


def ha_agendamentos_vencidos(*, now: datetime) -> bool:
    """True when ``agendamentos_vencidos(now=now)`` (aware ``now``) has at least one row.

    The same condition in one plain SQL string, served by the partial index
    ``agendamento_aberto_fim_idx``: the sweep asks it first, and most sweeps
    find nothing due. Compiling the ORM's batch query costs about 1 ms of
    Python, several times the query itself (docs/PERFORMANCE.md, benchmark 3).
    """
    tabela = connection.ops.quote_name(Agendamento._meta.db_table)
    limite = connection.ops.adapt_datetimefield_value(limite_finalizacao(now=now))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {tabela} WHERE active AND fechamento_automatico AND fim < %s"
            # Ordered by the index's column, or PostgreSQL may pick a sequential
            # scan that "soon" finds a row (0.1 ms becomes 8 ms on 100,000 rows).
            " ORDER BY fim LIMIT 1",
            [limite],
        )
        return cursor.fetchone() is not None


def agendamento_esta_vencido(agendamento: Agendamento, *, now: datetime) -> bool:
    """True when the in-memory ``agendamento`` is open and due at ``now`` (aware).

    Computes the end from the instance's own ``data_hora`` and
    ``duracao_minutos`` (the stored ``fim`` of an instance is only refreshed
    by a reload), so it is right right after an edit.
    """
    return (
        agendamento.status in Agendamento.STATUS_ABERTOS
        and agendamento.fechamento_automatico
        and agendamento.fim_calculado < limite_finalizacao(now=now)
    )


def agendamentos_que_ocupam(*, dentista_ids, inicio: datetime, fim: datetime) -> QuerySet:
    """Appointments of ``dentista_ids`` that hold the dentist's time within ``[inicio, fim)``.

    The double-booking rule's rows (agendado, confirmado, concluido, with a
    real time of day, overlapping; touching ranges do not), shared by
    :func:`agendamento_em_conflito` and the free slots
    (``apps.expediente.disponibilidade``), so what is offered and what is
    refused agree. ``inicio``/``fim`` are aware. The redundant lower bound on
    ``data_hora`` (no appointment lasts more than ``DURACAO_MAXIMA_MINUTOS``)
    lets ``agendamento_dentista_dh_idx`` bound the scan on both sides instead
    of reading the dentist's whole history before ``fim``.
    """
    return Agendamento.objects.filter(
        dentista_id__in=list(dentista_ids),
        status__in=STATUS_OCUPAM_HORARIO,
        horario_estimado=False,
        data_hora__gt=inicio - timedelta(minutes=DURACAO_MAXIMA_MINUTOS),
        data_hora__lt=fim,
        fim__gt=inicio,
    )


def agendamento_em_conflito(
    *, dentista_id: int, inicio: datetime, fim: datetime, excluir_id: int | None = None
) -> Agendamento | None:
    """An appointment of ``dentista_id`` overlapping ``[inicio, fim)``, or None.

    Only appointments that hold the dentist's time count (agendado,
    confirmado, concluido, with a real time of day); ranges that only touch
    (09:00-09:30 and 09:30-10:00) do not overlap. The same rule as the
    PostgreSQL exclusion constraint ``agendamento_sem_sobreposicao``.
    """
    conflitos = agendamentos_que_ocupam(dentista_ids=[dentista_id], inicio=inicio, fim=fim)
    if excluir_id is not None:
        conflitos = conflitos.exclude(pk=excluir_id)
    return conflitos.order_by("data_hora").first()


def atendimentos_visiveis(usuario) -> QuerySet[Atendimento]:
    """Visit records ``usuario`` may read: all for a manager, own patients' for a dentist."""
    from .permissions import papel

    qs = Atendimento.objects.select_related("agendamento")
    match papel(usuario):
        case "gestor":
            return qs
        case "dentista":
            return qs.filter(agendamento__dentista__usuario=usuario)
    return qs.none()


def agendamentos_visiveis(usuario) -> QuerySet[Agendamento]:
    """Appointments ``usuario`` may see: the whole schedule, or a dentist's own."""
    from .permissions import papel

    # No select_related: the API shows the patient and dentist as ids, and
    # joining their rows cost a third of a list request's time
    # (docs/PERFORMANCE.md, benchmark 7). The admin joins them itself.
    qs = Agendamento.objects.all()
    match papel(usuario):
        case "gestor" | "recepcao":
            return qs
        case "dentista":
            return qs.filter(dentista__usuario=usuario)
    return qs.none()


def agendamentos_finalizaveis(usuario, *, now: datetime) -> QuerySet[Agendamento]:
    """Appointments ``usuario`` may close now with a visit record: visible, open, started.

    ``now`` is an aware datetime. The same rule ``services.agendamento_finalizar``
    enforces (open, ``data_hora <= now``), on the rows ``agendamentos_visiveis``
    gives ``usuario``; the admin's "add visit record" form offers only these.
    Patient and dentist are joined (the form's labels name them).
    """
    return (
        agendamentos_visiveis(usuario)
        .filter(active=True, data_hora__lte=now)
        .select_related("paciente", "dentista")
        .order_by("data_hora", "id")
    )


def pacientes_visiveis(usuario) -> QuerySet[Paciente]:
    """Patients ``usuario`` may see: all for gestor and recepcao, a dentist's own patients.

    A dentist's patients are those with at least one appointment of theirs
    (the rule of ``PacienteViewSet.get_queryset``); no role, no patient.
    May repeat a patient once per appointment: filter with ``pk__in`` or
    call ``.distinct()``.
    """
    from .permissions import papel

    match papel(usuario):
        case "gestor" | "recepcao":
            return Paciente.objects.all()
        case "dentista":
            return Paciente.objects.filter(agendamentos__dentista__usuario=usuario)
    return Paciente.objects.none()
