"""Reads of working hours: what a dentist's day looks like after plans, exceptions and closures.

One function builds the working day (:func:`expediente`), and both the
booking rule (``regras.validar_expediente``) and the free slots
(``disponibilidade``) read it, so what is offered and what is accepted can
never disagree. Days are dates of the clinic's calendar (``TIME_ZONE``);
periods are aware datetimes ``[inicio, fim)`` in that zone.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Ausencia, DiaExtra, Fechamento, Jornada

Periodo = tuple[datetime, datetime]


@dataclass(frozen=True)
class DiaDeTrabalho:
    """A dentist's working day on ``dia``.

    - ``periodos``: the aware ``[inicio, fim)`` intervals they see patients,
      sorted and disjoint (empty: not working that day).
    - ``planejado``: the dentist has a weekly plan at all. When False, no
      rule applies and ``periodos`` is empty (not "closed all day").
    - ``motivo``: why the day has fewer periods than the weekly plan gives
      (pt-BR: "feriado nacional: Natal", "férias", "clínica fechada: Reforma"), or "".
    - ``fechado``: a clinic-wide closure or holiday text for the day, or ""
      (the calendar shades the day with it).
    """

    dentista_id: int
    dia: date
    periodos: tuple[Periodo, ...] = ()
    planejado: bool = False
    motivo: str = ""
    fechado: str = ""
    bloqueios: tuple[Periodo, ...] = field(default=())


@lru_cache(maxsize=64)
def _feriados_do_ano(ano: int, uf: str) -> dict[date, tuple[str, str]]:
    """``{date: (pt-BR name, "nacional" | "estadual")}`` for one year (cached: a pure function)."""
    nacionais = holidays.country_holidays("BR", years=[ano], language="pt_BR")
    resultado = {dia: (nome, "nacional") for dia, nome in nacionais.items()}
    if uf:
        estaduais = holidays.country_holidays("BR", subdiv=uf, years=[ano], language="pt_BR")
        for dia, nome in estaduais.items():
            # On a national holiday the library joins both names ("Natal; ..."):
            # the national one is the reason the clinic closes.
            resultado.setdefault(dia, (nome, "estadual"))
    return resultado


def _feriados_com_esfera(de: date, ate: date) -> dict[date, tuple[str, str]]:
    if not settings.EXPEDIENTE_FERIADOS:
        return {}
    resultado: dict[date, tuple[str, str]] = {}
    for ano in range(de.year, ate.year + 1):
        for dia, valor in _feriados_do_ano(ano, settings.CLINICA_UF).items():
            if de <= dia <= ate:
                resultado[dia] = valor
    return resultado


def feriados(de: date, ate: date) -> dict[date, str]:
    """Brazil's national holidays, plus the state's (``CLINICA_UF``), from ``de`` to ``ate``.

    Both dates inclusive; returns ``{date: pt-BR name}`` ("Natal"). From the
    ``holidays`` library (https://github.com/vacanza/holidays), which
    follows the federal law (Lei 662/1949 and amendments) and each state's;
    only its "public" category (Carnaval, an optional day off, is not one).
    Empty when ``EXPEDIENTE_FERIADOS`` is off.
    """
    return {dia: nome for dia, (nome, _esfera) in _feriados_com_esfera(de, ate).items()}


def _motivos_de_feriado(de: date, ate: date) -> dict[date, str]:
    """``{date: "feriado nacional: Natal" | "feriado estadual: ..."}`` (pt-BR)."""
    resultado = {}
    for dia, (nome, esfera) in _feriados_com_esfera(de, ate).items():
        if esfera == "nacional":
            resultado[dia] = _("feriado nacional: %(nome)s") % {"nome": nome}
        else:
            resultado[dia] = _("feriado estadual: %(nome)s") % {"nome": nome}
    return resultado


def _fechamentos_da_clinica(de: date, ate: date) -> dict[date, str]:
    resultado: dict[date, str] = {}
    for f in Fechamento.objects.filter(data_inicio__lte=ate, data_fim__gte=de):
        dia = max(f.data_inicio, de)
        while dia <= min(f.data_fim, ate):
            resultado[dia] = _("clínica fechada: %(descricao)s") % {"descricao": f.descricao}
            dia += timedelta(days=1)
    return resultado


def fechamentos(de: date, ate: date) -> dict[date, str]:
    """Days the whole clinic is closed, ``de``–``ate`` inclusive: ``{date: pt-BR reason}``.

    Holidays (:func:`feriados`: "feriado nacional: Natal", "feriado
    estadual: ...") and the clinic's own ``Fechamento`` rows; a
    ``Fechamento`` on a holiday gives its own description. One query.
    """
    resultado = _motivos_de_feriado(de, ate)
    resultado.update(_fechamentos_da_clinica(de, ate))
    return resultado


def _aware(dia: date, hora: time) -> datetime:
    return datetime.combine(dia, hora, tzinfo=timezone.get_current_timezone())


def _subtrair(periodos: list[Periodo], bloqueio: Periodo) -> list[Periodo]:
    """``periodos`` minus the interval ``bloqueio`` (all ``[inicio, fim)``)."""
    ini_b, fim_b = bloqueio
    resto: list[Periodo] = []
    for ini, fim in periodos:
        if fim <= ini_b or ini >= fim_b:
            resto.append((ini, fim))
            continue
        if ini < ini_b:
            resto.append((ini, ini_b))
        if fim > fim_b:
            resto.append((fim_b, fim))
    return resto


def _unir(periodos: list[Periodo]) -> list[Periodo]:
    """Sorted, with overlapping or touching intervals merged."""
    unidos: list[Periodo] = []
    for ini, fim in sorted(periodos):
        if unidos and ini <= unidos[-1][1]:
            unidos[-1] = (unidos[-1][0], max(unidos[-1][1], fim))
        else:
            unidos.append((ini, fim))
    return unidos


def _motivo_da_ausencia(ausencia: Ausencia) -> str:
    """pt-BR: "férias", "folga", "ausência", with the free text in parentheses if any."""
    nomes = {
        Ausencia.Tipo.FERIAS: _("férias"),
        Ausencia.Tipo.FOLGA: _("folga"),
        Ausencia.Tipo.OUTRO: _("ausência"),
    }
    nome = nomes.get(ausencia.tipo, _("ausência"))
    return f"{nome} ({ausencia.motivo})" if ausencia.motivo else nome


def expediente(dentista_ids, de: date, ate: date) -> dict[int, dict[date, DiaDeTrabalho]]:
    """Each dentist's working day, for every date ``de``–``ate`` (inclusive).

    ``dentista_ids`` is an iterable of ids. Returns
    ``{dentista_id: {date: DiaDeTrabalho}}`` with every requested id and
    date present. Four queries whatever the range or the number of
    dentists (plans, absences, extra days, closures). The day is the weekly
    plan for its weekday, plus extra days, minus absences; a clinic closure
    or holiday removes the plan's periods (an extra day still opens a
    holiday, never a ``Fechamento``), and an absence always wins.
    """
    ids = sorted(set(dentista_ids))
    jornadas: dict[int, dict[int, list[Jornada]]] = defaultdict(lambda: defaultdict(list))
    for j in Jornada.objects.filter(dentista_id__in=ids).order_by("inicio"):
        jornadas[j.dentista_id][j.dia_semana].append(j)
    ausencias: dict[int, list[Ausencia]] = defaultdict(list)
    for a in Ausencia.objects.filter(dentista_id__in=ids, data_inicio__lte=ate, data_fim__gte=de):
        ausencias[a.dentista_id].append(a)
    extras: dict[tuple[int, date], list[DiaExtra]] = defaultdict(list)
    for e in DiaExtra.objects.filter(dentista_id__in=ids, data__gte=de, data__lte=ate):
        extras[(e.dentista_id, e.data)].append(e)
    feriados_ = _motivos_de_feriado(de, ate)
    da_clinica = _fechamentos_da_clinica(de, ate)

    resultado: dict[int, dict[date, DiaDeTrabalho]] = {}
    for dentista_id in ids:
        dias: dict[date, DiaDeTrabalho] = {}
        planejado = dentista_id in jornadas
        dia = de
        while dia <= ate:
            fechado = da_clinica.get(dia) or feriados_.get(dia, "")
            if not planejado:
                dias[dia] = DiaDeTrabalho(dentista_id, dia, fechado=fechado)
                dia += timedelta(days=1)
                continue
            extra = [
                (_aware(dia, e.inicio), _aware(dia, e.fim))
                for e in extras.get((dentista_id, dia), [])
            ]
            motivo = ""
            if dia in da_clinica:  # closed for everyone: not even an extra day opens it
                periodos, motivo = [], fechado
            elif fechado:  # a holiday: only an extra day opens it
                periodos = extra
                motivo = "" if extra else fechado
            else:
                periodos = [
                    (_aware(dia, j.inicio), _aware(dia, j.fim))
                    for j in jornadas[dentista_id].get(dia.weekday(), [])
                ] + extra
            periodos = _unir(periodos)
            bloqueios: list[Periodo] = []
            for a in ausencias.get(dentista_id, []):
                if not a.data_inicio <= dia <= a.data_fim:
                    continue
                if a.hora_inicio is None:
                    bloqueio = (_aware(dia, time.min), _aware(dia + timedelta(days=1), time.min))
                else:
                    bloqueio = (_aware(dia, a.hora_inicio), _aware(dia, a.hora_fim))
                antes = periodos
                periodos = _subtrair(periodos, bloqueio)
                bloqueios.append(bloqueio)
                if periodos != antes or not periodos:
                    motivo = _motivo_da_ausencia(a)
            dias[dia] = DiaDeTrabalho(
                dentista_id,
                dia,
                periodos=tuple(periodos),
                planejado=True,
                motivo=motivo,
                fechado=fechado,
                bloqueios=tuple(bloqueios),
            )
            dia += timedelta(days=1)
        resultado[dentista_id] = dias
    return resultado


def dia_de_trabalho(dentista_id: int, dia: date) -> DiaDeTrabalho:
    """The working day of one dentist on one date (see :func:`expediente`)."""
    return expediente([dentista_id], dia, dia)[dentista_id][dia]


def _do_papel(qs: QuerySet, usuario, *, campo_dentista: str | None = "dentista") -> QuerySet:
    """``qs`` as ``usuario``'s role sees it: all (gestor, recepcao), own rows (dentista), none."""
    from apps.clinic.permissions import papel

    match papel(usuario):
        case "gestor" | "recepcao":
            return qs
        case "dentista":
            if campo_dentista is None:
                return qs
            return qs.filter(**{f"{campo_dentista}__usuario": usuario})
    return qs.none()


def jornadas_visiveis(usuario) -> QuerySet[Jornada]:
    """Weekly plans ``usuario`` may see: every dentist's, or a dentist's own."""
    return _do_papel(Jornada.objects.all(), usuario)


def ausencias_visiveis(usuario) -> QuerySet[Ausencia]:
    """Absences ``usuario`` may see: every dentist's, or a dentist's own."""
    return _do_papel(Ausencia.objects.all(), usuario)


def dias_extras_visiveis(usuario) -> QuerySet[DiaExtra]:
    """Extra working days ``usuario`` may see: every dentist's, or a dentist's own."""
    return _do_papel(DiaExtra.objects.all(), usuario)


def fechamentos_visiveis(usuario) -> QuerySet[Fechamento]:
    """Clinic closures ``usuario`` may see: all of them, for every role (they close everyone)."""
    return _do_papel(Fechamento.objects.all(), usuario, campo_dentista=None)
