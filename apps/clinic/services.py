"""Writes of the clinic's data. The only code that changes ``status``/``active``.

Every service takes ``now`` (an aware datetime) where time matters, so tests
control the clock; callers pass ``django.utils.timezone.now()``. ``now`` is the
instant the caller acts at: it decides what is due, late or in the past, and
it is the time a transition is recorded at, with one exception: a row's
history never goes back in time. A transition is recorded at
``max(now, the row's last history time)``, read after the row is locked, so a
caller whose ``now`` was taken before a concurrent transition committed (a
close that claims a row right after a confirm) is recorded after it, and
``/historico/`` (sorted by time, then id) lists transitions in the order they
happened.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef, QuerySet, Value
from django.db.models.constants import OnConflict
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    LIMITE_MOTIVO_HISTORICO,
    Agendamento,
    Atendimento,
    Dentista,
    HistoricoStatus,
    Paciente,
)
from .regras import aplicar_regras_de_horario
from .selectors import (
    agendamento_do_paciente_em_conflito,
    agendamento_em_conflito,
    agendamentos_vencidos,
    ha_agendamentos_vencidos,
)

logger = logging.getLogger(__name__)

# The clinic's own wording for records written by the closing job.
DIAGNOSTICO_AUTOMATICO = "Consulta finalizada automaticamente via sistema"
TRATAMENTO_PADRAO = "Realizado conforme agendamento"
MOTIVO_FINALIZACAO_AUTOMATICA = "Finalizado automaticamente: o horário do agendamento terminou."


class AgendamentoOcupado(Exception):
    """The appointment is open and due, but another transaction holds its row right now.

    Raised by :func:`executar_finalizacao` only when asked
    (``erro_se_ocupado=True``): the caller (the on-save task) tries again
    shortly instead of leaving the row to the next sweep.
    """

    def __init__(self, agendamento_id: int) -> None:
        super().__init__(f"appointment {agendamento_id} is locked by another transaction")
        self.agendamento_id = agendamento_id


class TransicaoInvalida(Exception):
    """The action is not allowed in the appointment's current status.

    ``mensagem`` is pt-BR, for the user (the API answers 409 with it).
    """

    def __init__(self, mensagem: str) -> None:
        super().__init__(mensagem)
        self.mensagem = mensagem


def _hora_local(instante: datetime) -> str:
    return timezone.localtime(instante).strftime("%d/%m/%Y %H:%M")


def _erro_conflito(conflito: Agendamento | None) -> ValidationError:
    if conflito is None:  # lost a race: the database's exclusion constraint said no
        return ValidationError(
            {"data_hora": _("O dentista já tem outro agendamento que se sobrepõe a este horário.")}
        )
    return ValidationError(
        {
            "data_hora": _(
                "O dentista já tem um agendamento de %(inicio)s a %(fim)s (agendamento nº %(id)s)."
            )
            % {
                "inicio": _hora_local(conflito.data_hora),
                "fim": timezone.localtime(conflito.fim).strftime("%H:%M"),
                "id": conflito.pk,
            }
        }
    )


def _erro_conflito_paciente(conflito: Agendamento | None) -> ValidationError:
    """The patient already has an open appointment then: a pt-BR error on ``data_hora``.

    Names the other appointment by number and time only (not its dentist,
    nor anything about the patient).
    """
    if conflito is None:  # lost a race: the database's exclusion constraint said no
        return ValidationError(
            {"data_hora": _("O paciente já tem outro agendamento que se sobrepõe a este horário.")}
        )
    return ValidationError(
        {
            "data_hora": _(
                "O paciente já tem um agendamento nesse horário (nº %(id)s, %(inicio)s–%(fim)s)."
            )
            % {
                "id": conflito.pk,
                "inicio": _hora_local(conflito.data_hora),
                "fim": timezone.localtime(conflito.fim).strftime("%H:%M"),
            }
        }
    )


# The exclusion constraints (PostgreSQL, migrations 0002 and 0007) and the
# error each one's violation becomes: the same 400 as the services' own check.
_ERROS_DAS_EXCLUSOES = {
    "agendamento_paciente_sem_sobreposicao": _erro_conflito_paciente,
    "agendamento_sem_sobreposicao": _erro_conflito,
}


def _erro_de_exclusao(exc: IntegrityError) -> ValidationError | None:
    """The ValidationError for a violated exclusion constraint, or None for another error."""
    texto = str(exc)
    for nome, erro in _ERROS_DAS_EXCLUSOES.items():
        if nome in texto:
            return erro(None)
    return None


def agendamento_validar_horario(
    agendamento: Agendamento,
    *,
    now: datetime,
    permitir_retroativo: bool,
    inicio_mudou: bool = True,
    permitir_fora_do_expediente: bool = False,
) -> list[str]:
    """Check ``agendamento``'s time for booking/rescheduling; raise ``ValidationError`` if wrong.

    A start before ``now`` (aware) needs ``permitir_retroativo`` when the start
    is new (``inicio_mudou``); the rules other apps registered
    (``apps.clinic.regras``: the dentist's working hours, closures, holidays)
    must accept it unless ``permitir_fora_do_expediente`` (the
    ``clinic.agendar_fora_do_expediente`` permission, asked for explicitly);
    the dentist must be free, and so must the patient (no other open
    appointment then, with any dentist: same rules as the PostgreSQL
    exclusion constraints). Used by the services before saving and by the admin's form,
    so both answer with the same pt-BR messages. Returns the pt-BR messages
    of the rules that were overridden (empty when none refused), for the
    history.
    """
    if inicio_mudou and agendamento.data_hora < now and not permitir_retroativo:
        raise ValidationError(
            {"data_hora": _("Não é possível agendar no passado sem a permissão de retroativo.")}
        )
    excecoes = aplicar_regras_de_horario(agendamento, permitir_excecao=permitir_fora_do_expediente)
    conflito = agendamento_em_conflito(
        dentista_id=agendamento.dentista_id,
        inicio=agendamento.data_hora,
        fim=agendamento.fim_calculado,
        excluir_id=agendamento.pk,
    )
    if conflito is not None:
        raise _erro_conflito(conflito)
    if agendamento.status in Agendamento.STATUS_ABERTOS:
        do_paciente = agendamento_do_paciente_em_conflito(
            paciente_id=agendamento.paciente_id,
            inicio=agendamento.data_hora,
            fim=agendamento.fim_calculado,
            excluir_id=agendamento.pk,
        )
        if do_paciente is not None:
            raise _erro_conflito_paciente(do_paciente)
    return excecoes


def _motivo_excecao(prefixo: str, excecoes: list[str]) -> str:
    """The history's reason for an override: ``prefixo`` and what the rules said, cut to fit."""
    return f"{prefixo}: {' '.join(excecoes)}"[:LIMITE_MOTIVO_HISTORICO]


def _salvar_sem_sobreposicao(agendamento: Agendamento, **kwargs) -> None:
    """save(); a violated exclusion constraint (dentist's, patient's) becomes a ValidationError."""
    try:
        with transaction.atomic():
            agendamento.save(**kwargs)
    except IntegrityError as exc:
        erro = _erro_de_exclusao(exc)
        if erro is not None:
            raise erro from None
        raise


def _instante_da_transicao(agendamento_id: int, *, now: datetime) -> datetime:
    """``max(now, the last registrado_em of the appointment's history)`` (aware).

    Call it with the appointment's row locked: every transition locks the row
    before it writes history, so no later row can appear meanwhile.
    """
    ultimo = HistoricoStatus.objects.filter(agendamento_id=agendamento_id).aggregate(
        ultimo=Max("registrado_em")
    )["ultimo"]
    return max(now, ultimo) if ultimo is not None else now


def _historico(
    agendamento, *, de: str, para: str, usuario, now, motivo: str = "", pelo_paciente=False
) -> None:
    HistoricoStatus.objects.create(
        agendamento=agendamento,
        status_anterior=de,
        status_novo=para,
        registrado_em=now,
        usuario=usuario,
        pelo_paciente=pelo_paciente,
        motivo=motivo,
    )


def agendamento_criar(
    *,
    paciente: Paciente,
    dentista: Dentista,
    data_hora: datetime,
    duracao_minutos: int = 30,
    observacoes: str = "",
    usuario=None,
    now: datetime | None = None,
    permitir_retroativo: bool = False,
    permitir_fora_do_expediente: bool = False,
) -> Agendamento:
    """Book an appointment and record its first status (agendado) in the history.

    ``data_hora`` is the aware start; ``duracao_minutos`` is in minutes
    (5–480). A start before ``now`` needs ``permitir_retroativo`` (the API
    grants it with the ``clinic.agendar_retroativo`` permission). A start
    the registered rules refuse (outside the dentist's hours, a closure)
    needs ``permitir_fora_do_expediente``; the first history row's reason
    then says what was overridden. Raises
    ``django.core.exceptions.ValidationError`` (pt-BR messages by field) on
    invalid input or when the dentist is already booked at that time;
    nothing is saved then. If the appointment has already ended, the
    post_save signal enqueues its closing after commit.
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
    if not dentista.ativo:
        raise ValidationError(
            {"dentista": _("Este dentista está inativo e não recebe agendamentos.")}
        )
    with transaction.atomic():
        excecoes = agendamento_validar_horario(
            agendamento,
            now=now,
            permitir_retroativo=permitir_retroativo,
            permitir_fora_do_expediente=permitir_fora_do_expediente,
        )
        _salvar_sem_sobreposicao(agendamento)
        _historico(
            agendamento,
            de="",
            para=agendamento.status,
            usuario=usuario,
            now=now,
            motivo=_motivo_excecao(_("Agendado fora do expediente"), excecoes) if excecoes else "",
        )
    return agendamento


def agendamento_reagendar(
    agendamento: Agendamento,
    *,
    usuario,
    now: datetime,
    data_hora: datetime | None = None,
    duracao_minutos: int | None = None,
    observacoes: str | None = None,
    permitir_retroativo: bool = False,
    permitir_fora_do_expediente: bool = False,
) -> Agendamento:
    """Change the start, duration or notes of an open appointment; return it updated.

    Same checks as :func:`agendamento_criar` for the new time; an overridden
    rule (``permitir_fora_do_expediente``) adds a history row (same status
    before and after) whose reason says what was overridden. Raises
    ``TransicaoInvalida`` when the appointment is closed, ``ValidationError``
    for invalid values or a double booking.
    """
    with transaction.atomic():
        atual = Agendamento.objects.select_for_update().get(pk=agendamento.pk)
        if not atual.active:
            raise TransicaoInvalida(
                _(
                    "Só é possível alterar um agendamento em aberto; "
                    "a situação atual é “%(status)s”."
                )
                % {"status": atual.get_status_display().lower()}
            )
        inicio_mudou = data_hora is not None and data_hora != atual.data_hora
        if data_hora is not None:
            atual.data_hora = data_hora
        if duracao_minutos is not None:
            atual.duracao_minutos = duracao_minutos
        if observacoes is not None:
            atual.observacoes = observacoes
        atual.full_clean()
        excecoes = []
        if data_hora is not None or duracao_minutos is not None:
            excecoes = agendamento_validar_horario(
                atual,
                now=now,
                permitir_retroativo=permitir_retroativo,
                inicio_mudou=inicio_mudou,
                permitir_fora_do_expediente=permitir_fora_do_expediente,
            )
        _salvar_sem_sobreposicao(
            atual, update_fields=["data_hora", "duracao_minutos", "observacoes", "updated_at"]
        )
        if excecoes:
            _historico(
                atual,
                de=atual.status,
                para=atual.status,
                usuario=usuario,
                now=_instante_da_transicao(atual.pk, now=now),
                motivo=_motivo_excecao(_("Reagendado fora do expediente"), excecoes),
            )
    atual.refresh_from_db()
    return atual


def _transicionar(
    agendamento: Agendamento,
    *,
    de: tuple[str, ...],
    para: str,
    usuario,
    now: datetime,
    motivo: str = "",
    erro: str,
    pelo_paciente: bool = False,
    **campos,
) -> str:
    """Move ``agendamento`` from one of ``de`` to ``para``; return the old status.

    A conditional UPDATE (``WHERE status IN de``) claims the row, so two
    concurrent actions cannot both succeed; the loser gets
    ``TransicaoInvalida(erro)``. Must run inside a transaction. The history
    row and ``updated_at`` get ``max(now, the row's last history time)``
    (see the module's docstring).
    """
    anterior = (
        Agendamento.objects.select_for_update()
        .filter(pk=agendamento.pk)
        .values_list("status", flat=True)
        .first()
    )
    if anterior not in de:
        if anterior is None:
            raise TransicaoInvalida(_("Agendamento não encontrado."))
        raise TransicaoInvalida(erro % {"s": _rotulo(anterior)})
    instante = _instante_da_transicao(agendamento.pk, now=now)
    Agendamento.objects.filter(pk=agendamento.pk, status=anterior).update(
        status=para, active=para in Agendamento.STATUS_ABERTOS, updated_at=instante, **campos
    )
    _historico(
        agendamento,
        de=anterior,
        para=para,
        usuario=usuario,
        now=instante,
        motivo=motivo,
        pelo_paciente=pelo_paciente,
    )
    agendamento.status = para
    agendamento.active = para in Agendamento.STATUS_ABERTOS
    for nome, valor in campos.items():
        setattr(agendamento, nome, valor)
    return anterior


def _rotulo(status: str) -> str:
    return str(Agendamento.Status(status).label).lower()


@transaction.atomic
def agendamento_confirmar(
    agendamento: Agendamento, *, usuario, now: datetime, pelo_paciente: bool = False
) -> Agendamento:
    """agendado → confirmado. Raises ``TransicaoInvalida`` from any other status.

    ``pelo_paciente``: the patient confirmed (the reminder's link); the
    history then names the patient as the actor (``usuario`` is ``None``).
    """
    _transicionar(
        agendamento,
        de=(Agendamento.Status.AGENDADO,),
        para=Agendamento.Status.CONFIRMADO,
        usuario=usuario,
        now=now,
        erro=_(
            "Só um agendamento na situação “agendado” pode ser confirmado; "
            "a situação atual é “%(s)s”."
        ),
        pelo_paciente=pelo_paciente,
    )
    return agendamento


@transaction.atomic
def agendamento_cancelar(
    agendamento: Agendamento, *, usuario, now: datetime, motivo: str, pelo_paciente: bool = False
) -> Agendamento:
    """agendado/confirmado → cancelado, with a reason (required, pt-BR free text).

    A cancellation less than 24 hours before the start (``now`` aware) is
    recorded as late (``cancelamento_tardio``), as clinics' no-show policies
    count it. ``pelo_paciente`` as in :func:`agendamento_confirmar`. Raises
    ``ValidationError`` for a blank reason and ``TransicaoInvalida`` for a
    closed appointment.
    """
    if not (motivo or "").strip():
        raise ValidationError({"motivo": _("Informe o motivo do cancelamento.")})
    tardio = agendamento.data_hora - now < timedelta(hours=24)
    _transicionar(
        agendamento,
        de=Agendamento.STATUS_ABERTOS,
        para=Agendamento.Status.CANCELADO,
        usuario=usuario,
        now=now,
        motivo=motivo.strip() + (" [cancelamento tardio]" if tardio else ""),
        erro=_("Só um agendamento em aberto pode ser cancelado; a situação atual é “%(s)s”."),
        pelo_paciente=pelo_paciente,
        cancelamento_tardio=tardio,
    )
    return agendamento


@transaction.atomic
def agendamento_marcar_falta(agendamento: Agendamento, *, usuario, now: datetime) -> Agendamento:
    """agendado/confirmado → faltou (no-show), only once the appointment has started."""
    if agendamento.data_hora > now:
        raise TransicaoInvalida(
            _("Só é possível marcar falta depois do início do agendamento (%(inicio)s).")
            % {"inicio": _hora_local(agendamento.data_hora)}
        )
    _transicionar(
        agendamento,
        de=Agendamento.STATUS_ABERTOS,
        para=Agendamento.Status.FALTOU,
        usuario=usuario,
        now=now,
        erro=_("Só um agendamento em aberto pode receber falta; a situação atual é “%(s)s”."),
    )
    return agendamento


@transaction.atomic
def agendamento_finalizar(
    agendamento: Agendamento,
    *,
    usuario,
    now: datetime,
    diagnostico: str,
    tratamento_realizado: str,
) -> Atendimento:
    """Close an open, started appointment now with the dentist's own clinical record.

    Creates the ``Atendimento`` with ``origem=manual``. Raises
    ``ValidationError`` when the texts are blank and ``TransicaoInvalida``
    for a future or closed appointment.
    """
    erros = {}
    if not (diagnostico or "").strip():
        erros["diagnostico"] = _("Informe o diagnóstico.")
    if not (tratamento_realizado or "").strip():
        erros["tratamento_realizado"] = _("Informe o tratamento realizado.")
    if erros:
        raise ValidationError(erros)
    if agendamento.data_hora > now:
        raise TransicaoInvalida(
            _("Só é possível finalizar um agendamento depois do seu início (%(inicio)s).")
            % {"inicio": _hora_local(agendamento.data_hora)}
        )
    _transicionar(
        agendamento,
        de=Agendamento.STATUS_ABERTOS,
        para=Agendamento.Status.CONCLUIDO,
        usuario=usuario,
        now=now,
        motivo=_("Finalizado pelo dentista."),
        erro=_("Só um agendamento em aberto pode ser finalizado; a situação atual é “%(s)s”."),
    )
    return Atendimento.objects.create(
        agendamento=agendamento,
        diagnostico=diagnostico.strip(),
        tratamento_realizado=tratamento_realizado.strip(),
        origem=Atendimento.Origem.MANUAL,
    )


@transaction.atomic
def agendamento_reabrir(
    agendamento: Agendamento, *, usuario, now: datetime, motivo: str = ""
) -> Agendamento:
    """Undo an automatic close: back to the open status it had, visit record removed.

    Only for ``concluido`` with an automatic, unreviewed ``Atendimento``. The
    history keeps both transitions (the close and this reopening). The
    appointment is then left out of the automatic sweep
    (``fechamento_automatico=False``): a person decides how it ends
    (finalizar or marcar-falta). Raises ``TransicaoInvalida`` otherwise, and
    ``ValidationError`` (on ``data_hora``) when the patient has another open
    appointment at that time by now.
    """
    # Lock order everywhere: the appointment, then its visit record, so an edit
    # of the record (atendimento_atualizar) and this reopening serialize.
    atual = Agendamento.objects.select_for_update().filter(pk=agendamento.pk).first()
    atendimento = Atendimento.objects.select_for_update().filter(agendamento=agendamento).first()
    if (
        atual is None
        or atendimento is None
        or atendimento.origem != Atendimento.Origem.AUTOMATICO
        or atendimento.revisado_em is not None
    ):
        raise TransicaoInvalida(
            _("Só um fechamento automático ainda não revisado pode ser desfeito.")
        )
    fechamento = (
        HistoricoStatus.objects.filter(agendamento=agendamento, status_novo="concluido")
        .order_by("-registrado_em", "-id")
        .first()
    )
    volta_para = (
        fechamento.status_anterior
        if fechamento and fechamento.status_anterior in Agendamento.STATUS_ABERTOS
        else Agendamento.Status.AGENDADO
    )
    # Open again, it must not overlap another open appointment of the patient
    # (booked meanwhile, with another dentist): checked here, and the
    # patient's exclusion constraint answers a concurrent booking.
    if not atual.horario_estimado:
        conflito = agendamento_do_paciente_em_conflito(
            paciente_id=atual.paciente_id,
            inicio=atual.data_hora,
            fim=atual.fim,
            excluir_id=atual.pk,
        )
        if conflito is not None:
            raise _erro_conflito_paciente(conflito)
    try:
        with transaction.atomic():
            _transicionar(
                agendamento,
                de=(Agendamento.Status.CONCLUIDO,),
                para=volta_para,
                usuario=usuario,
                now=now,
                motivo=(motivo or "").strip() or _("Fechamento automático desfeito."),
                erro=_("Só um agendamento concluído pode ser reaberto."),
                fechamento_automatico=False,
            )
    except IntegrityError as exc:
        erro = _erro_de_exclusao(exc)
        if erro is not None:
            raise erro from None
        raise
    atendimento.delete()
    return agendamento


@transaction.atomic
def atendimento_atualizar(
    atendimento: Atendimento,
    *,
    usuario,
    now: datetime,
    diagnostico: str | None = None,
    tratamento_realizado: str | None = None,
) -> Atendimento:
    """Edit a visit record; a change to an automatic one marks it reviewed by ``usuario``.

    Locks the appointment, then the record (the order agendamento_reabrir
    uses), so an edit racing a reopening either lands before it (and the
    reopening is refused: the record was reviewed) or finds the record gone
    (``TransicaoInvalida``). An edit that changes nothing marks nothing.
    """
    Agendamento.objects.select_for_update().filter(pk=atendimento.agendamento_id).first()
    atual = Atendimento.objects.select_for_update().filter(pk=atendimento.pk).first()
    if atual is None:
        raise TransicaoInvalida(_("Este atendimento não existe mais: o agendamento foi reaberto."))
    campos = []
    for nome, valor in (
        ("diagnostico", diagnostico),
        ("tratamento_realizado", tratamento_realizado),
    ):
        if valor is not None and valor != getattr(atual, nome):
            setattr(atual, nome, valor)
            campos.append(nome)
    if not campos:
        return atual
    if atual.origem == Atendimento.Origem.AUTOMATICO:
        atual.revisado_em = now
        atual.revisado_por = usuario
        campos += ["revisado_em", "revisado_por"]
    atual.full_clean()
    atual.save(update_fields=[*campos, "updated_at"])
    return atual


def executar_finalizacao(
    agendamento: Agendamento,
    *,
    now: datetime,
    task_id: str = "",
    usuario=None,
    erro_se_ocupado: bool = False,
) -> Atendimento | None:
    """Close one appointment if it is open and due at ``now`` (aware datetime).

    Closing sets ``status=concluido`` and ``active=False``, appends a history
    row (actor: ``usuario`` when a person asked for it, else the system, with
    ``task_id`` when a Celery task does it; recorded at ``max(now, the row's
    last history time)``) and creates the automatic ``Atendimento``. Returns
    that ``Atendimento``, or ``None`` when there was nothing to do: not due
    yet, already closed (including ``faltou``/``cancelado``), gone, bad data,
    or held right now by another transaction (a confirm, an edit, a close in
    flight). Safe to call any number of times, concurrently.

    With ``erro_se_ocupado``, that last case raises ``AgendamentoOcupado``
    instead of returning ``None``: the row was skipped (``SKIP LOCKED``) and,
    read again without a lock, is still open and due. A close in flight
    elsewhere also looks like this until it commits; asking again then
    returns ``None``.
    """
    vencido = agendamentos_vencidos(now=now).filter(pk=agendamento.pk)
    fechados, ruins = _finalizar_lote(vencido, now=now, task_id=task_id, limite=1, usuario=usuario)
    if not fechados:
        # A plain read does not wait for row locks: it sees the last committed state.
        if erro_se_ocupado and not ruins and vencido.exists():
            raise AgendamentoOcupado(agendamento.pk)
        return None
    agendamento.status = Agendamento.Status.CONCLUIDO
    agendamento.active = False
    return Atendimento.objects.get(agendamento_id=agendamento.pk)


def finalizar_agendamentos_vencidos(
    *,
    now: datetime,
    task_id: str = "",
    tamanho_lote: int | None = None,
    ignorados: set[int] | None = None,
) -> int:
    """Close every appointment that is open and due at ``now``; return how many.

    The batch twin of :func:`executar_finalizacao`, with the same effects per
    row. Works set-based, ``tamanho_lote`` rows (default
    ``FINALIZACAO_TAMANHO_LOTE``) per transaction: a crash loses at most the
    batch in flight, and that batch is rolled back whole. Rows that another
    process has locked are skipped (that process closes them).

    Bad rows never stop the sweep: an appointment whose patient or dentist
    was deleted by hand, or whose end is not after its start, is left open
    and reported in the log (ids only); if a batch fails in the database for
    another reason, its rows are retried one by one and the failing ones are
    reported and skipped. Every other due appointment is closed.

    ``ignorados``: a set the caller passes to learn which ids were skipped as
    bad rows; they are added to it as the sweep goes (so it holds them even
    when the sweep then raises). The return value stays the closed count.
    """
    tamanho_lote = tamanho_lote or settings.FINALIZACAO_TAMANHO_LOTE
    # Most runs find nothing due: a one-line probe answers that without
    # compiling the batch query (which costs more than the query itself).
    if not ha_agendamentos_vencidos(now=now):
        return 0
    total = 0
    ignorados = set() if ignorados is None else ignorados
    while True:
        vencidos = agendamentos_vencidos(now=now).exclude(pk__in=ignorados)
        try:
            fechados, ruins = _finalizar_lote(
                vencidos, now=now, task_id=task_id, limite=tamanho_lote
            )
        except DatabaseError as erro:
            logger.warning(
                "a sweep batch failed (%s); retrying its rows one by one", type(erro).__name__
            )
            fechados, ruins = _finalizar_um_a_um(
                vencidos, now=now, task_id=task_id, limite=tamanho_lote
            )
        ignorados |= ruins
        total += fechados
        if fechados + len(ruins) < tamanho_lote:
            if ignorados:
                logger.warning(
                    "sweep left %d appointment(s) with bad data open: ids %s",
                    len(ignorados),
                    sorted(ignorados)[:100],
                )
            return total


def _finalizar_um_a_um(
    vencidos: QuerySet[Agendamento], *, now: datetime, task_id: str, limite: int
) -> tuple[int, set[int]]:
    """Fallback of a failed batch: each row in its own transaction; return (closed, failed ids)."""
    fechados, ruins = 0, set()
    for pk in list(vencidos.values_list("pk", flat=True)[:limite]):
        try:
            n, ruins_da_linha = _finalizar_lote(
                vencidos.filter(pk=pk), now=now, task_id=task_id, limite=1
            )
        except DatabaseError as erro:
            logger.warning("appointment %s could not be closed (%s)", pk, type(erro).__name__)
            ruins.add(pk)
            continue
        fechados += n
        ruins |= ruins_da_linha
    return fechados, ruins


def _finalizar_lote(
    vencidos: QuerySet[Agendamento], *, now: datetime, task_id: str, limite: int, usuario=None
) -> tuple[int, set[int]]:
    """Close up to ``limite`` rows of ``vencidos`` in one transaction.

    Returns ``(closed, bad ids)``: rows whose patient or dentist no longer
    exists, or whose end is not after its start, are not closed.

    1. Claim: ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL). Rows another
       transaction holds are skipped, and a row closed by a transaction that
       committed meanwhile is re-checked by PostgreSQL and dropped. On SQLite
       the IMMEDIATE transaction holds the database's write lock instead.
    2. One ``UPDATE`` of the claimed rows, two bulk ``INSERT``s (history,
       visit records). The visit-record insert ignores conflicts on the
       unique one-to-one: the database is the last guard against a double.
    """
    with transaction.atomic():
        candidatas = list(
            vencidos.annotate(
                paciente_existe=Exists(Paciente.objects.filter(pk=OuterRef("paciente_id"))),
                dentista_existe=Exists(Dentista.objects.filter(pk=OuterRef("dentista_id"))),
            )
            .select_for_update(skip_locked=True, of=("self",))
            .values_list(
                "id",
                "status",
                "observacoes",
                "paciente_existe",
                "dentista_existe",
                "data_hora",
                "fim",
            )[:limite]
        )
        linhas = [
            (id_, status, obs)
            for id_, status, obs, paciente, dentista, inicio, fim in candidatas
            if paciente and dentista and fim > inicio
        ]
        ruins = {c[0] for c in candidatas} - {linha[0] for linha in linhas}
        if not linhas:
            return 0, ruins
        ids = [linha[0] for linha in linhas]
        # Before the UPDATE: the history rows read the status being left.
        _inserir_historico_e_atendimentos(
            ids,
            em_branco=[id_ for id_, _status, obs in linhas if not obs.strip()],
            now=now,
            task_id=task_id,
            usuario=usuario,
        )
        atualizados = Agendamento.objects.filter(id__in=ids, active=True).update(
            status=Agendamento.Status.CONCLUIDO,
            active=False,
            # Never back in time (a concurrent confirm may have written a later one).
            updated_at=Greatest(F("updated_at"), Value(now)),
        )
        if atualizados != len(ids):  # impossible while the rows are locked
            raise RuntimeError(
                f"claimed {len(ids)} appointments but closed {atualizados}; rolling back"
            )
    logger.info("closed %d appointment(s) (task %s)", len(ids), task_id or "-")
    return len(ids), ruins


def _inserir_historico_e_atendimentos(
    ids: list[int], *, em_branco: list[int], now: datetime, task_id: str, usuario
) -> None:
    """Insert the history rows and visit records of the claimed, still open ``ids``.

    Two ``INSERT … SELECT`` from the appointments themselves, with the
    values ``bulk_create`` would write (the visit-record insert ignores
    conflicts on the one-to-one, like ``bulk_create(ignore_conflicts=True)``).
    Building 2 × 2,000 model instances and binding their ~30,000 parameters
    cost more than the database's own work (docs/PERFORMANCE.md), so the
    rows are made by the database. ``em_branco``: the ids whose
    ``observacoes`` are blank by Python's ``str.strip`` (they get
    ``TRATAMENTO_PADRAO``), decided here so the rule is exactly the ORM path's.
    Must run before the appointments' UPDATE: ``status_anterior`` is read from them.
    Each history row is recorded at ``max(now, the row's last history time)``
    (the rows are locked: no transition can add a later one meanwhile); the
    subquery is served by the ``historico_ag_idx`` index.
    """
    ops = connection.ops
    ag = connection.ops.quote_name(Agendamento._meta.db_table)
    if connection.vendor == "postgresql":
        nos_ids, p_ids = "id = ANY(%s)", [ids]
        nos_em_branco, p_em_branco = "id = ANY(%s)", [em_branco]
    else:
        nos_ids, p_ids = f"id IN ({', '.join(['%s'] * len(ids))})", ids
        nos_em_branco = f"id IN ({', '.join(['%s'] * len(em_branco))})" if em_branco else "0"
        p_em_branco = em_branco
    agora = ops.adapt_datetimefield_value(now)
    criado = ops.adapt_datetimefield_value(timezone.now())
    hist = ops.quote_name(HistoricoStatus._meta.db_table)
    # GREATEST on PostgreSQL; SQLite's scalar MAX() is the same function.
    maior = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    ultimo = f"(SELECT MAX(h.registrado_em) FROM {hist} h WHERE h.agendamento_id = {ag}.id)"
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {hist}"
            " (agendamento_id, status_anterior, status_novo, registrado_em, usuario_id,"
            " task_id, motivo, pelo_paciente)"
            f" SELECT id, status, %s, {maior}(%s, COALESCE({ultimo}, %s)), %s, %s, %s, FALSE"
            f" FROM {ag} WHERE {nos_ids} ORDER BY fim, id",
            [
                Agendamento.Status.CONCLUIDO.value,
                agora,
                agora,
                getattr(usuario, "pk", None),
                task_id or "",
                MOTIVO_FINALIZACAO_AUTOMATICA,
                *p_ids,
            ],
        )
        cur.execute(
            f"{ops.insert_statement(on_conflict=OnConflict.IGNORE)}"
            f" {ops.quote_name(Atendimento._meta.db_table)}"
            " (agendamento_id, diagnostico, tratamento_realizado, origem, revisado_em,"
            " revisado_por_id, created_at, updated_at)"
            f" SELECT id, %s, CASE WHEN {nos_em_branco} THEN %s ELSE observacoes END, %s,"
            f" NULL, NULL, %s, %s FROM {ag} WHERE {nos_ids} ORDER BY fim, id"
            f" {ops.on_conflict_suffix_sql([], OnConflict.IGNORE, [], [])}",
            [
                DIAGNOSTICO_AUTOMATICO,
                *p_em_branco,
                TRATAMENTO_PADRAO,
                Atendimento.Origem.AUTOMATICO.value,
                criado,
                criado,
                *p_ids,
            ],
        )


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
    "AgendamentoOcupado",
    "DIAGNOSTICO_AUTOMATICO",
    "TRATAMENTO_PADRAO",
    "agenda_finalizacao_garantir",
    "TransicaoInvalida",
    "agendamento_cancelar",
    "agendamento_confirmar",
    "agendamento_criar",
    "agendamento_finalizar",
    "agendamento_marcar_falta",
    "agendamento_reabrir",
    "agendamento_reagendar",
    "agendamento_validar_horario",
    "atendimento_atualizar",
    "executar_finalizacao",
    "finalizar_agendamentos_vencidos",
]
