"""Reads of the calendar page: which dentists a user sees and what their days hold.

:func:`grade` builds the whole page's data with one query per kind of row
(dentists are passed in; appointments with their patients; the working
hours' four; free slots'), whatever the number of appointments or days.
Times on the page are minutes from the axis' start (local time, TIME_ZONE),
so the template positions blocks with CSS only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.clinic.models import Agendamento, Dentista
from apps.clinic.permissions import PAPEIS_AGENDAMENTOS, papel
from apps.clinic.selectors import agendamentos_visiveis
from apps.expediente.disponibilidade import horarios_livres_por_dentista
from apps.expediente.selectors import DiaDeTrabalho, expediente

# The axis' default span (local hours); widened to hold any period or appointment.
HORA_INICIAL, HORA_FINAL = 7, 20


def dentistas_da_agenda(usuario) -> QuerySet[Dentista]:
    """The dentists whose columns ``usuario`` sees, by name.

    gestor and recepcao: every active dentist; a dentist: their own row
    (active or not); no role: none.
    """
    match papel(usuario):
        case "gestor" | "recepcao":
            return Dentista.objects.filter(ativo=True).order_by("nome", "id")
        case "dentista":
            return Dentista.objects.filter(usuario=usuario).order_by("nome", "id")
    return Dentista.objects.none()


def pode(usuario, acao: str) -> bool:
    """True when the API lets ``usuario``'s role do ``acao`` (a key of PAPEIS_AGENDAMENTOS)."""
    return papel(usuario) in PAPEIS_AGENDAMENTOS.get(acao, set())


def acoes_do_agendamento(usuario, agendamento: Agendamento, *, now: datetime) -> list[str]:
    """The transitions ``usuario`` may try on ``agendamento`` now.

    A sublist of ``["confirmar", "cancelar", "marcar_falta"]``: the role's
    right (PAPEIS_AGENDAMENTOS, as the API and admin) and the status the
    service accepts (confirm: agendado; cancel: open; no-show: open and
    started, ``data_hora <= now``).
    """
    acoes = []
    status = agendamento.status
    if status == Agendamento.Status.AGENDADO and pode(usuario, "confirmar"):
        acoes.append("confirmar")
    if status in Agendamento.STATUS_ABERTOS and pode(usuario, "cancelar"):
        acoes.append("cancelar")
    if (
        status in Agendamento.STATUS_ABERTOS
        and agendamento.data_hora <= now
        and pode(usuario, "marcar_falta")
    ):
        acoes.append("marcar_falta")
    return acoes


@dataclass
class Faixa:
    """A vertical stretch of a column: ``topo`` and ``altura`` in minutes of the axis."""

    topo: int
    altura: int
    texto: str = ""


@dataclass
class Bloco:
    """One appointment on the page.

    ``topo``/``altura`` in minutes of the axis; ``faixa`` of ``faixas``: the
    lane it takes when closed appointments overlap open ones (a cancelled
    slot may be booked again), so no block hides another.
    """

    agendamento: Agendamento
    topo: int
    altura: int
    acoes: list[str]
    faixa: int = 0
    faixas: int = 1

    @property
    def esquerda(self) -> float:
        return round(100 * self.faixa / self.faixas, 2)

    @property
    def largura(self) -> float:
        return round(100 / self.faixas, 2)


@dataclass
class Coluna:
    """A dentist's day: working periods, blocked stretches, appointments, free starts."""

    dentista: Dentista
    dia: date
    trabalho: DiaDeTrabalho
    periodos: list[Faixa] = field(default_factory=list)
    bloqueios: list[Faixa] = field(default_factory=list)
    blocos: list[Bloco] = field(default_factory=list)
    livres: list[datetime] = field(default_factory=list)

    @property
    def fechado(self) -> str:
        """Why the column is shaded all day (a closure, a holiday, an absence), or ""."""
        if self.trabalho.planejado and not self.trabalho.periodos:
            return self.trabalho.motivo or self.trabalho.fechado or _("sem expediente")
        return self.trabalho.fechado if not self.trabalho.periodos else ""


@dataclass
class Grade:
    """The page: the axis (``inicio``/``fim`` in minutes of the day) and its columns."""

    inicio: int
    fim: int
    colunas: list[Coluna]

    @property
    def altura(self) -> int:
        return self.fim - self.inicio

    @property
    def horas(self) -> list[Faixa]:
        """One mark per whole hour: ``topo`` in minutes of the axis, ``texto`` "HH:00"."""
        return [
            Faixa(topo=m - self.inicio, altura=60, texto=f"{m // 60:02d}:00")
            for m in range(self.inicio, self.fim, 60)
        ]


def _minutos(instante: datetime, dia: date) -> int:
    """Minutes from local midnight of ``dia`` to ``instante`` (may be < 0 or > 1440)."""
    meia_noite = timezone.make_aware(datetime.combine(dia, time.min))
    return int((instante - meia_noite).total_seconds() // 60)


def _faixas(blocos: list[Bloco]) -> None:
    """Give overlapping blocks side-by-side lanes (greedy interval partitioning)."""
    blocos.sort(key=lambda b: (b.topo, not b.agendamento.active, b.agendamento.pk))
    grupo: list[Bloco] = []
    fim_do_grupo = None
    fins_das_faixas: list[int] = []

    def fechar():
        for b in grupo:
            b.faixas = len(fins_das_faixas)

    for b in blocos:
        if fim_do_grupo is not None and b.topo >= fim_do_grupo:
            fechar()
            grupo, fins_das_faixas = [], []
        livre = next((i for i, fim in enumerate(fins_das_faixas) if fim <= b.topo), None)
        if livre is None:
            fins_das_faixas.append(b.topo + b.altura)
            b.faixa = len(fins_das_faixas) - 1
        else:
            fins_das_faixas[livre] = b.topo + b.altura
            b.faixa = livre
        grupo.append(b)
        fim_do_grupo = max(fim_do_grupo or 0, b.topo + b.altura)
    fechar()


def grade(
    usuario,
    *,
    dentistas: list[Dentista],
    dias: list[date],
    now: datetime,
    duracao_livre: int | None = None,
) -> Grade:
    """The calendar of ``dentistas`` × ``dias`` as ``usuario`` sees it.

    ``dentistas`` must come from :func:`dentistas_da_agenda` (the caller
    picks among them); appointments are read through
    ``agendamentos_visiveis(usuario)``, so a dentist never gets another's.
    One column per (dentist, day), dentists outer when there is one day and
    days outer otherwise (the week of one dentist). ``duracao_livre``
    (minutes): also list the free starts of that length from ``now`` on;
    None: no free slots. ``now`` is aware.
    """
    ids = [d.pk for d in dentistas]
    if not ids or not dias:
        return Grade(HORA_INICIAL * 60, HORA_FINAL * 60, [])
    de, ate = min(dias), max(dias)
    trabalho = expediente(ids, de, ate)
    inicio_local = timezone.make_aware(datetime.combine(de, time.min))
    fim_local = timezone.make_aware(datetime.combine(ate + timedelta(days=1), time.min))
    agendamentos = (
        agendamentos_visiveis(usuario)
        .filter(dentista_id__in=ids, data_hora__gte=inicio_local, data_hora__lt=fim_local)
        .select_related("paciente")
        .order_by("data_hora", "id")
    )
    por_celula: dict[tuple[int, date], list[Agendamento]] = defaultdict(list)
    for ag in agendamentos:
        por_celula[(ag.dentista_id, timezone.localdate(ag.data_hora))].append(ag)
    livres: dict[tuple[int, date], list[datetime]] = defaultdict(list)
    if duracao_livre:
        por_dentista = horarios_livres_por_dentista(
            ids, de=de, ate=ate, duracao_minutos=duracao_livre, agora=now
        )
        for dentista_id, inicios in por_dentista.items():
            for inicio in inicios:
                livres[(dentista_id, timezone.localdate(inicio))].append(inicio)

    pares = (
        [(d, dias[0]) for d in dentistas]
        if len(dias) == 1
        else [(d, dia) for d in dentistas for dia in dias]
    )
    menor, maior = HORA_INICIAL * 60, HORA_FINAL * 60
    colunas = []
    for dentista, dia in pares:
        t = trabalho[dentista.pk][dia]
        coluna = Coluna(dentista=dentista, dia=dia, trabalho=t, livres=livres[(dentista.pk, dia)])
        for ini, fim in t.periodos:
            coluna.periodos.append(
                Faixa(_minutos(ini, dia), _minutos(fim, dia) - _minutos(ini, dia))
            )
        for ini, fim in t.bloqueios:
            a, b = max(_minutos(ini, dia), 0), min(_minutos(fim, dia), 24 * 60)
            coluna.bloqueios.append(Faixa(a, b - a, t.motivo))
        for ag in por_celula[(dentista.pk, dia)]:
            topo = _minutos(ag.data_hora, dia)
            coluna.blocos.append(
                Bloco(ag, topo, ag.duracao_minutos, acoes_do_agendamento(usuario, ag, now=now))
            )
        for faixa in [*coluna.periodos, *coluna.blocos]:
            menor = min(menor, faixa.topo // 60 * 60)
            maior = max(maior, min(-(-(faixa.topo + faixa.altura) // 60) * 60, 24 * 60))
        colunas.append(coluna)

    # Positions were minutes from midnight: make them minutes of the axis
    # (a whole-day absence is cut to the axis).
    for coluna in colunas:
        for faixa in coluna.bloqueios:
            fim = min(faixa.topo + faixa.altura, maior)
            faixa.topo = max(faixa.topo, menor)
            faixa.altura = max(fim - faixa.topo, 0)
        for faixa in [*coluna.periodos, *coluna.bloqueios, *coluna.blocos]:
            faixa.topo -= menor
        _faixas(coluna.blocos)
    return Grade(menor, maior, colunas)
