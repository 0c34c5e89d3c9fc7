"""Writes of the reminders: the due-finder and the send, each reminder at most once.

The finder (``buscar_devidos``, run by Beat every minute) writes one
``Lembrete`` row per (appointment, rule, start) the first time it is due,
unique in the database, and enqueues one send task per pending row after
commit. The send (``lembrete_enviar``) claims its row with a conditional
UPDATE pendente → enviando, commits, and only then talks to the channel,
outside any transaction. See docs/LEMBRETES.md, "Exactly once".

Logs carry ids, the rule, the channel and the outcome; never an address, a
name or a message.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.clinic.models import Agendamento, Paciente

from . import selectors
from .canais import ErroPermanente, ErroTransitorio, Mensagem, canal_para
from .links import url_para
from .modelos import dados_de, renderizar
from .models import Lembrete, RegraLembrete

logger = logging.getLogger(__name__)

Situacao = Lembrete.Situacao
Motivo = Lembrete.Motivo

NOME_TAREFA_PERIODICA = "Enviar lembretes devidos"
TAREFA_BUSCA = "apps.lembretes.tasks.buscar_lembretes_devidos"
ESPERA_MAXIMA_SEGUNDOS = 300  # never a long ETA (docs/LEMBRETES.md)


# --- the finder -------------------------------------------------------------------


def lembretes_descartar(*, now: datetime) -> Counter:
    """Mark pending reminders that must not go out as ignorado, and stale claims as falhou.

    Pending rows of a closed appointment (agendamento_fechado), of an old
    start (remarcado), of a switched-off rule (regra_inativa) or past their
    window (janela_passada) become ``ignorado``; rows ``enviando`` longer
    than the send task's hard limit become ``falhou``/interrompido (never
    sent again: the first attempt may have gone out). Each UPDATE re-checks
    the row's situation, so a concurrent claim wins over it. Returns the
    counts by motivo.
    """
    contagem: Counter = Counter()
    while True:
        por_motivo = selectors.ids_pendentes_a_descartar(now=now)
        for motivo, ids in por_motivo.items():
            if ids:
                contagem[motivo] += Lembrete.objects.filter(
                    pk__in=ids, situacao=Situacao.PENDENTE
                ).update(situacao=Situacao.IGNORADO, motivo=motivo, updated_at=now)
        if all(len(ids) < selectors.LOTE for ids in por_motivo.values()):
            break
    while ids := selectors.ids_interrompidos(now=now):
        contagem[Motivo.INTERROMPIDO] += Lembrete.objects.filter(
            pk__in=ids, situacao=Situacao.ENVIANDO
        ).update(
            situacao=Situacao.FALHOU,
            motivo=Motivo.INTERROMPIDO,
            detalhe="o envio não terminou no prazo da tarefa",
            updated_at=now,
        )
        if len(ids) < selectors.LOTE:
            break
    return contagem


def _novo(regra: RegraLembrete, canal, linha, *, now: datetime) -> Lembrete:
    agendamento_id, inicio, nome, email, telefone = linha
    previsto = inicio - timedelta(minutes=regra.antecedencia_minutos)
    situacao, motivo = Situacao.PENDENTE, ""
    if now > previsto + timedelta(minutes=regra.tolerancia_minutos):
        situacao, motivo = Situacao.IGNORADO, Motivo.JANELA_PASSADA
    elif canal.destino(Paciente(nome=nome, email=email or "", telefone=telefone or "")) is None:
        situacao, motivo = Situacao.IGNORADO, Motivo.SEM_CONTATO
    return Lembrete(
        agendamento_id=agendamento_id,
        regra=regra,
        inicio=inicio,
        canal=regra.canal,
        previsto_para=previsto,
        situacao=situacao,
        motivo=motivo,
        proxima_tentativa_em=now if situacao == Situacao.PENDENTE else None,
    )


def lembretes_criar_devidos(*, now: datetime) -> Counter:
    """Write the reminder rows that became due at ``now`` (aware); return counts by situacao/motivo.

    For each active rule, each open appointment starting in ``(now, now +
    antecedencia]`` with no row for (appointment, rule, start) gets one:
    pendente; or ignorado/janela_passada when ``now`` is past ``previsto_para
    + tolerancia``; or ignorado/sem_contato when the patient has no address
    on the rule's channel. ``bulk_create(ignore_conflicts=True)``: a
    concurrent finder that wrote the same row first makes this one a no-op
    (the unique constraint decides), so the counts are of rows attempted.
    """
    contagem: Counter = Counter()
    for regra in selectors.regras_ativas():
        try:
            canal = canal_para(regra.canal)
        except KeyError:
            logger.warning("reminder rule %s has an unknown channel; skipped", regra.pk)
            continue
        chave = None
        while linhas := selectors.agendamentos_devidos(regra, now=now, depois_de=chave):
            novos = [_novo(regra, canal, linha, now=now) for linha in linhas]
            Lembrete.objects.bulk_create(novos, ignore_conflicts=True)
            for novo in novos:
                contagem[novo.motivo or novo.situacao] += 1
            if len(linhas) < selectors.LOTE:
                break
            chave = (linhas[-1][1], linhas[-1][0])
    return contagem


def lembretes_enfileirar(*, now: datetime, publicar: Callable[[list[int]], None]) -> int:
    """Hand every pending reminder whose time came to ``publicar`` (ids), after commit.

    Each batch is locked (``SKIP LOCKED``: a concurrent finder takes other
    rows) and its ``proxima_tentativa_em`` pushed ``LEMBRETES_REENFILEIRAR_SEGUNDOS``
    ahead, so a row is enqueued again only if its message was lost; a
    duplicate message is harmless anyway (the send claims the row). The
    publish runs after the commit, outside the transaction. Returns how many.
    """
    total = 0
    adiante = now + timedelta(seconds=settings.LEMBRETES_REENFILEIRAR_SEGUNDOS)
    while True:
        with transaction.atomic():
            ids = list(
                selectors.pendentes_a_enfileirar(now=now)
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[: selectors.LOTE]
            )
            if ids:
                Lembrete.objects.filter(pk__in=ids, situacao=Situacao.PENDENTE).update(
                    proxima_tentativa_em=adiante
                )
                transaction.on_commit(lambda ids=ids: publicar(ids))
        total += len(ids)
        if len(ids) < selectors.LOTE:
            return total


def buscar_devidos(*, now: datetime, publicar: Callable[[list[int]], None]) -> dict[str, int]:
    """The finder: discard, create, enqueue (in that order); return the counts by name.

    Safe to run any number of times at once: every write re-checks the row's
    situation or relies on the unique (appointment, rule, start).
    """
    contagem = lembretes_descartar(now=now) + lembretes_criar_devidos(now=now)
    resultado = {str(chave): n for chave, n in contagem.items()}
    resultado["enfileirados"] = lembretes_enfileirar(now=now, publicar=publicar)
    return resultado


# --- the send ---------------------------------------------------------------------


@dataclass(frozen=True)
class Resultado:
    """What one send attempt did: the row's new ``situacao`` (or "nada": not claimed).

    ``espera_segundos``: set when it went back to pendente for a retry.
    """

    situacao: str
    espera_segundos: int | None = None


def _por_que_nao(lembrete: dict, agendamento: dict | None, regra: dict, now: datetime) -> str:
    """The motivo that forbids sending now ("" when it may go out)."""
    if agendamento is None or not agendamento["active"]:
        return Motivo.AGENDAMENTO_FECHADO
    if agendamento["data_hora"] != lembrete["inicio"]:
        return Motivo.REMARCADO
    if not regra["ativa"]:
        return Motivo.REGRA_INATIVA
    fim_da_janela = lembrete["previsto_para"] + timedelta(minutes=regra["tolerancia_minutos"])
    if now > fim_da_janela or now >= lembrete["inicio"]:
        return Motivo.JANELA_PASSADA
    return ""


def lembrete_reivindicar(lembrete_id: int, *, now: datetime) -> bool:
    """Claim reminder ``lembrete_id`` for sending: pendente → enviando; True if this call won.

    In one transaction: lock the appointment's row (the order the clinic's
    transitions lock it: appointment first), re-check that it is still open,
    at the reminder's start, the rule active and the window open (else the
    row becomes ignorado with that motivo), then a conditional UPDATE
    ``WHERE situacao = 'pendente'``: of two concurrent claims one updates a
    row, the other none and returns False. ``tentativas`` counts the claim.
    """
    lembrete = (
        Lembrete.objects.filter(pk=lembrete_id, situacao=Situacao.PENDENTE)
        .values("agendamento_id", "regra_id", "inicio", "previsto_para")
        .first()
    )
    if lembrete is None:
        return False
    with transaction.atomic():
        agendamento = (
            Agendamento.objects.select_for_update()
            .filter(pk=lembrete["agendamento_id"])
            .values("active", "data_hora")
            .first()
        )
        regra = RegraLembrete.objects.values("ativa", "tolerancia_minutos").get(
            pk=lembrete["regra_id"]
        )
        pendente = Lembrete.objects.filter(pk=lembrete_id, situacao=Situacao.PENDENTE)
        if motivo := _por_que_nao(lembrete, agendamento, regra, now):
            if pendente.update(situacao=Situacao.IGNORADO, motivo=motivo, updated_at=now):
                logger.info("reminder %s not sent: %s", lembrete_id, motivo)
            return False
        return (
            pendente.update(
                situacao=Situacao.ENVIANDO, tentativas=F("tentativas") + 1, updated_at=now
            )
            == 1
        )


def _mensagem(lembrete: Lembrete, para: str) -> Mensagem:
    agendamento = lembrete.agendamento
    dados = dados_de(
        nome_paciente=agendamento.paciente.nome,
        inicio=lembrete.inicio,
        nome_dentista=agendamento.dentista.nome,
        link=url_para(lembrete),
    )
    return Mensagem(
        chave=f"lembrete-{lembrete.pk}",
        para=para,
        assunto=renderizar(lembrete.regra.assunto, dados),
        texto=renderizar(lembrete.regra.modelo, dados),
    )


def _terminar(lembrete: Lembrete, situacao: str, **campos) -> Resultado:
    """enviando → ``situacao`` (only from enviando: the finder may have marked it interrupted)."""
    Lembrete.objects.filter(pk=lembrete.pk, situacao=Situacao.ENVIANDO).update(
        situacao=situacao, updated_at=timezone.now(), **campos
    )
    logger.info(
        "reminder %s (rule %s, channel %s, attempt %s): %s %s",
        lembrete.pk,
        lembrete.regra_id,
        lembrete.canal,
        lembrete.tentativas,
        situacao,
        campos.get("motivo", ""),
    )
    return Resultado(situacao)


def espera_segundos(tentativas: int) -> int:
    """Seconds before attempt ``tentativas + 1``: 30, 60, 120, 240..., at most 300."""
    base = settings.LEMBRETES_ESPERA_INICIAL_SEGUNDOS
    return min(base * 2 ** max(tentativas - 1, 0), ESPERA_MAXIMA_SEGUNDOS)


def lembrete_enviar(lembrete_id: int, *, now: datetime) -> Resultado:
    """Send reminder ``lembrete_id`` once: claim, commit, render, send, record the outcome.

    Returns ``Resultado("nada")`` when the row is not pending or another
    worker claimed it. The channel is called outside any transaction. A
    transient error puts the row back to pendente (``proxima_tentativa_em``
    = now + ``espera_segundos``) until ``LEMBRETES_MAX_TENTATIVAS`` attempts,
    then falhou/tentativas_esgotadas; a permanent one is falhou/erro_permanente;
    any other exception (a bug, the soft time limit) falhou/interrompido:
    whether it went out is unknown, so it is never tried again.
    """
    if not lembrete_reivindicar(lembrete_id, now=now):
        return Resultado("nada")
    lembrete = Lembrete.objects.select_related(
        "regra", "agendamento__paciente", "agendamento__dentista"
    ).get(pk=lembrete_id)
    canal = canal_para(lembrete.canal)
    para = canal.destino(lembrete.agendamento.paciente)
    if para is None:
        return _terminar(lembrete, Situacao.IGNORADO, motivo=Motivo.SEM_CONTATO)
    try:
        canal.enviar(_mensagem(lembrete, para))
    except ErroTransitorio as erro:
        if lembrete.tentativas >= settings.LEMBRETES_MAX_TENTATIVAS:
            return _terminar(
                lembrete, Situacao.FALHOU, motivo=Motivo.TENTATIVAS_ESGOTADAS, detalhe=erro.detalhe
            )
        espera = espera_segundos(lembrete.tentativas)
        Lembrete.objects.filter(pk=lembrete.pk, situacao=Situacao.ENVIANDO).update(
            situacao=Situacao.PENDENTE,
            detalhe=erro.detalhe,
            proxima_tentativa_em=timezone.now() + timedelta(seconds=espera),
            updated_at=timezone.now(),
        )
        logger.info(
            "reminder %s (rule %s, channel %s, attempt %s): transient error, retry in %d s",
            lembrete.pk,
            lembrete.regra_id,
            lembrete.canal,
            lembrete.tentativas,
            espera,
        )
        return Resultado(Situacao.PENDENTE, espera)
    except ErroPermanente as erro:
        return _terminar(
            lembrete, Situacao.FALHOU, motivo=Motivo.ERRO_PERMANENTE, detalhe=erro.detalhe
        )
    except Exception as erro:  # noqa: BLE001 - unknown outcome: at most once, never again
        return _terminar(
            lembrete, Situacao.FALHOU, motivo=Motivo.INTERROMPIDO, detalhe=type(erro).__name__
        )
    return _terminar(lembrete, Situacao.ENVIADO, enviado_em=timezone.now(), detalhe="")


# --- the schedule -----------------------------------------------------------------


def agenda_lembretes_garantir() -> bool:
    """Create the finder's entry in django-celery-beat's schedule if it is missing.

    Every ``LEMBRETES_INTERVALO_SEGUNDOS`` seconds (default 60). An existing
    entry is left alone: the admin ("Periodic tasks") is where it is edited.
    Returns True if it created one.
    """
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    if PeriodicTask.objects.filter(name=NOME_TAREFA_PERIODICA).exists():
        return False
    intervalo, _ = IntervalSchedule.objects.get_or_create(
        every=settings.LEMBRETES_INTERVALO_SEGUNDOS, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(
        name=NOME_TAREFA_PERIODICA,
        task=TAREFA_BUSCA,
        interval=intervalo,
        description="Cria e envia os lembretes de agendamento devidos (NEXKODONTO).",
    )
    return True
