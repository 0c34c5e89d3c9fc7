"""The sweep's dead-man check: is the closing job still running on schedule?

If beat stops, or every worker stops, or the sweep fails or is skipped run
after run, nothing closes and nothing else says so. The sweep records each
run (``apps.clinic.models.ExecucaoVarredura``); this module compares the
newest run that started sweeping with the schedule the admin holds in
django-celery-beat (rule in :mod:`apps.operacao.agenda`).

Before the first run ever, the web process's start counts as the last run:
readiness stays green, with the code ``aguardando_primeira_execucao``,
until the second scheduled time after the start (two periods of an
interval; about 1–2 hours for the default hourly crontab).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.clinic.models import ExecucaoVarredura

from . import agenda

logger = logging.getLogger(__name__)

# When this process started (set again by OperacaoConfig.ready at start-up).
INICIO_DO_PROCESSO: datetime = timezone.now()

# The cache key that marks an outage already logged, shared by every web process.
CHAVE_ALERTA = "operacao:varredura:alerta"
# When the cache is down: this process remembers alone (each process logs once).
_alerta_local: dict[str, bool] = {"ativo": False}


@dataclass(frozen=True)
class Avaliacao:
    """The verdict: ``ok``, a stable ``codigo``, a pt-BR ``motivo`` and the times behind it.

    ``ultima``: start of the newest run that swept (None: none kept);
    ``prazo``: when it is late; ``periodo``: the schedule's period around now.
    """

    ok: bool
    codigo: str
    motivo: str
    ultima: datetime | None = None
    prazo: datetime | None = None
    periodo: timedelta | None = None

    def detalhes(self) -> dict:
        """JSON-ready times: ISO 8601 in ``TIME_ZONE``, the period in seconds."""

        def iso(instante):
            return timezone.localtime(instante).isoformat() if instante else None

        return {
            "ultima_execucao": iso(self.ultima),
            "prazo": iso(self.prazo),
            "periodo_segundos": int(self.periodo.total_seconds()) if self.periodo else None,
        }


def avaliar(*, agora: datetime, inicio_do_processo: datetime) -> Avaliacao:
    """Judge the sweep at ``agora`` (aware). Reads the beat schedule and the run records.

    Red when: no entry of the sweep in django-celery-beat
    (``agenda_ausente``), none enabled (``agenda_desativada``), a schedule
    that does not repeat (``agenda_sem_periodo``), or ``agora`` past the
    deadline: ``varredura_falhando`` / ``varredura_bloqueada`` when the
    newest run failed / was skipped for the lock, else
    ``varredura_atrasada`` (or ``nenhuma_execucao`` if none ran since this
    process started). With several enabled entries the earliest deadline wins.
    """
    entradas = agenda.entradas_da_varredura()
    if not entradas.existe:
        return Avaliacao(
            False, "agenda_ausente", _("A varredura não está na agenda do Celery Beat.")
        )
    if not entradas.ativas:
        return Avaliacao(
            False, "agenda_desativada", _("A varredura está desativada na agenda do Celery Beat.")
        )
    execucoes = ExecucaoVarredura.objects.order_by("-id")
    mais_recente = execucoes.values_list("resultado", flat=True).first()
    ultima = (
        execucoes.filter(
            resultado__in=[
                ExecucaoVarredura.Resultado.EM_ANDAMENTO,
                ExecucaoVarredura.Resultado.CONCLUIDA,
            ]
        )
        .values_list("iniciada_em", flat=True)
        .first()
    )
    referencia = ultima or inicio_do_processo
    try:
        schedules = [entrada.schedule for entrada in entradas.ativas]
        prazo = min(agenda.prazo(s, ultima=referencia, agora=agora) for s in schedules)
        periodo = min(agenda.periodo_em_torno(s, agora=agora) for s in schedules)
    except agenda.AgendaSemPeriodo:
        return Avaliacao(
            False,
            "agenda_sem_periodo",
            _("A agenda da varredura não se repete (horário único)."),
            ultima,
        )
    if agora <= prazo:
        if ultima is None:
            return Avaliacao(
                True,
                "aguardando_primeira_execucao",
                _("Nenhuma varredura desde o início do processo; dentro da carência."),
                None,
                prazo,
                periodo,
            )
        return Avaliacao(True, "em_dia", _("A varredura está em dia."), ultima, prazo, periodo)
    if mais_recente == ExecucaoVarredura.Resultado.FALHOU:
        codigo, motivo = "varredura_falhando", _("As últimas execuções da varredura falharam.")
    elif mais_recente == ExecucaoVarredura.Resultado.PULADA:
        codigo, motivo = (
            "varredura_bloqueada",
            _("As últimas execuções da varredura foram puladas: outra execução tem o lock."),
        )
    elif ultima is None:
        codigo, motivo = "nenhuma_execucao", _("Nenhuma varredura rodou desde o início.")
    else:
        codigo, motivo = (
            "varredura_atrasada",
            _(
                "A última varredura começou há mais de dois períodos da agenda: "
                "o Celery Beat ou os workers pararam?"
            ),
        )
    return Avaliacao(False, codigo, motivo, ultima, prazo, periodo)


def registrar_transicao(avaliacao: Avaliacao) -> None:
    """Log the outage's start at ERROR and its end at INFO, once for all web processes.

    The marker is a cache key (Redis, shared by every gunicorn worker and
    machine): ``add`` is atomic, so only the probe that creates it logs the
    error, and only the probe that deletes it logs the recovery. With the
    cache unreachable, each process keeps its own marker (logs once each).
    """
    try:
        if not avaliacao.ok:
            primeiro = cache.add(CHAVE_ALERTA, avaliacao.codigo, timeout=None)
        else:
            primeiro = bool(cache.delete(CHAVE_ALERTA))
    except Exception:  # the cache is Redis, maybe down with the broker: remember locally
        primeiro = _alerta_local["ativo"] == avaliacao.ok
    _alerta_local["ativo"] = not avaliacao.ok
    if not primeiro:
        return
    if not avaliacao.ok:
        logger.error(
            "dead-man check red (%s): the closing sweep last started %s; deadline was %s",
            avaliacao.codigo,
            avaliacao.ultima.isoformat() if avaliacao.ultima else "never",
            avaliacao.prazo.isoformat() if avaliacao.prazo else "-",
        )
    else:
        logger.info("dead-man check green again (%s): the sweep runs on schedule", avaliacao.codigo)
