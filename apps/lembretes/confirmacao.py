"""The patient's answer through a reminder's link: read the link's state, confirm or cancel.

``avaliar`` only reads (the page's GET: mail scanners prefetch links, so a
GET must never change anything). ``responder`` writes, in one transaction:
it locks the appointment and the reminder, checks everything again, claims
the reminder with a conditional UPDATE (``WHERE respondido_em IS NULL``, the
count checked) and calls the clinic's service, which records the patient as
the actor. A link in any bad state changes nothing.

Nothing here logs or raises personal data: log lines carry the reminder's id
and the outcome only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from django.db import transaction

from apps.clinic import services
from apps.clinic.models import Agendamento

from .links import LinkInvalido, ler_token
from .models import Lembrete

logger = logging.getLogger(__name__)

MOTIVO_CANCELAMENTO = "Cancelado pelo paciente pelo link do lembrete"


class Estado(StrEnum):
    """What a link can do now. Every state but ``OK`` is a refusal page."""

    OK = "ok"  # offer Confirmar / Cancelar
    ADULTERADO = "adulterado"  # not one of our signatures (tampered, truncated, garbage)
    EXPIRADO = "expirado"  # the signature is too old, or the appointment has started
    DESATUALIZADO = "desatualizado"  # the appointment was moved after the reminder went out
    USADO = "usado"  # this reminder already got an answer
    FECHADO = "fechado"  # cancelled, no-show or concluded (or gone)


class Acao(StrEnum):
    CONFIRMAR = "confirmar"
    CANCELAR = "cancelar"


class Resultado(StrEnum):
    """What ``responder`` did."""

    CONFIRMADO = "confirmado"  # agendado → confirmado, by the patient
    CANCELADO = "cancelado"  # open → cancelado, by the patient
    JA_CONFIRMADO = "ja_confirmado"  # already confirmed (e.g. by the front desk): nothing recorded
    RECUSADO = "recusado"  # a bad link: see ``Situacao.estado``; nothing changed


@dataclass(frozen=True)
class Situacao:
    """A link's state at one instant, with the rows the page shows (None for a bad token).

    ``lembrete`` and ``agendamento`` (with ``paciente`` and ``dentista``
    loaded) are set whenever the token's reminder exists.
    """

    estado: Estado
    lembrete: Lembrete | None = None
    agendamento: Agendamento | None = None

    @property
    def ja_confirmado(self) -> bool:
        return self.agendamento is not None and (
            self.agendamento.status == Agendamento.Status.CONFIRMADO
        )


@dataclass(frozen=True)
class Resposta:
    """``responder``'s outcome: ``resultado`` and the state the link is in afterwards."""

    resultado: Resultado
    situacao: Situacao


def _mesmo_segundo(a: datetime, b: datetime) -> bool:
    # The token holds whole seconds of the start (links.token_para).
    return int(a.timestamp()) == int(b.timestamp())


def _estado(lembrete: Lembrete, agendamento: Agendamento, *, inicio_token: datetime, now) -> Estado:
    """The state of a valid token's reminder and appointment at ``now``, most telling first."""
    if lembrete.respondido_em is not None:
        return Estado.USADO
    if agendamento.status not in Agendamento.STATUS_ABERTOS:
        return Estado.FECHADO
    if not _mesmo_segundo(agendamento.data_hora, inicio_token) or not _mesmo_segundo(
        agendamento.data_hora, lembrete.inicio
    ):
        return Estado.DESATUALIZADO
    if agendamento.data_hora <= now:
        return Estado.EXPIRADO
    return Estado.OK


def avaliar(token: str, *, now: datetime) -> Situacao:
    """The state of the link ``token`` at ``now`` (aware); reads only, never writes.

    A bad signature or an old one is decided before any query; a valid
    token's reminder that no longer exists (its appointment deleted) is
    ``FECHADO``.
    """
    try:
        dados = ler_token(token)
    except LinkInvalido as erro:
        return Situacao(Estado(erro.codigo))
    lembrete = (
        Lembrete.objects.select_related("agendamento__paciente", "agendamento__dentista")
        .filter(pk=dados.lembrete_id)
        .first()
    )
    if lembrete is None:
        return Situacao(Estado.FECHADO)
    agendamento = lembrete.agendamento
    estado = _estado(lembrete, agendamento, inicio_token=dados.inicio, now=now)
    return Situacao(estado, lembrete, agendamento)


def responder(token: str, acao: Acao | str, *, now: datetime) -> Resposta:
    """Confirm or cancel the appointment of the link ``token``, once; ``now`` aware.

    ``acao`` is "confirmar" or "cancelar" (``ValueError`` otherwise). In one
    transaction: lock the appointment, then the reminder (the order the
    clinic's services lock in: appointment first), check the state again,
    claim the reminder (``UPDATE ... WHERE respondido_em IS NULL``; a second
    click or a second tab finds it answered: ``USADO``), then
    ``agendamento_confirmar`` / ``agendamento_cancelar`` with
    ``pelo_paciente=True`` (a cancellation under 24 h before the start is
    late, as in the API). Confirming an appointment that is already
    confirmed records nothing (``JA_CONFIRMADO``). Any bad state:
    ``RECUSADO``, and no row is written.
    """
    acao = Acao(acao)
    situacao = avaliar(token, now=now)
    if situacao.estado is not Estado.OK:
        _registrar(situacao, Resultado.RECUSADO)
        return Resposta(Resultado.RECUSADO, situacao)
    dados = ler_token(token)
    try:
        with transaction.atomic():
            agendamento = (
                Agendamento.objects.select_for_update()
                .select_related("paciente", "dentista")
                .get(pk=situacao.agendamento.pk)
            )
            lembrete = Lembrete.objects.select_for_update().get(pk=dados.lembrete_id)
            estado = _estado(lembrete, agendamento, inicio_token=dados.inicio, now=now)
            depois = Situacao(estado, lembrete, agendamento)
            if estado is not Estado.OK:
                resposta = Resposta(Resultado.RECUSADO, depois)
            elif acao is Acao.CONFIRMAR and depois.ja_confirmado:
                resposta = Resposta(Resultado.JA_CONFIRMADO, depois)
            else:
                resposta = _aplicar(lembrete, agendamento, acao, now=now)
    except (Agendamento.DoesNotExist, Lembrete.DoesNotExist):
        resposta = Resposta(Resultado.RECUSADO, Situacao(Estado.FECHADO))
    except services.TransicaoInvalida:
        # Not expected under the locks; the transaction rolled back the claim.
        resposta = Resposta(Resultado.RECUSADO, avaliar(token, now=now))
    _registrar(resposta.situacao, resposta.resultado)
    return resposta


def _aplicar(lembrete: Lembrete, agendamento: Agendamento, acao: Acao, *, now) -> Resposta:
    """Claim the reminder and run the service; inside ``responder``'s transaction."""
    para = Agendamento.Status.CONFIRMADO if acao is Acao.CONFIRMAR else Agendamento.Status.CANCELADO
    reclamados = Lembrete.objects.filter(pk=lembrete.pk, respondido_em__isnull=True).update(
        resposta=para, respondido_em=now, updated_at=now
    )
    if reclamados != 1:  # another request got there first
        lembrete.refresh_from_db()
        return Resposta(Resultado.RECUSADO, Situacao(Estado.USADO, lembrete, agendamento))
    if acao is Acao.CONFIRMAR:
        services.agendamento_confirmar(agendamento, usuario=None, now=now, pelo_paciente=True)
        resultado = Resultado.CONFIRMADO
    else:
        services.agendamento_cancelar(
            agendamento, usuario=None, now=now, motivo=MOTIVO_CANCELAMENTO, pelo_paciente=True
        )
        resultado = Resultado.CANCELADO
    lembrete.resposta, lembrete.respondido_em = para, now
    return Resposta(resultado, Situacao(Estado.USADO, lembrete, agendamento))


def _registrar(situacao: Situacao, resultado: Resultado) -> None:
    lembrete_id = situacao.lembrete.pk if situacao.lembrete is not None else None
    logger.info(
        "confirmation link: lembrete %s, state %s, outcome %s",
        lembrete_id if lembrete_id is not None else "-",
        situacao.estado.value,
        resultado.value,
    )
