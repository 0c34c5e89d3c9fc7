"""Free slots: the starts at which a dentist can still be booked for ``duracao_minutos``.

One function decides (:func:`horarios_livres_detalhados`); the API
(``apps.expediente.api``), the calendar page and the receptionist's search
call it. It applies the same rules as a booking
(``apps.clinic.services.agendamento_validar_horario``), read from the same
places, so every start it offers is accepted, and any other start inside the
dentist's hours is refused for a reason the booking names:

- not before ``agora`` (the booking's "no back-dating" rule);
- the whole ``[inicio, inicio + duracao)`` inside one period of the dentist's
  working day (``selectors.expediente``, the data ``regras.motivo_recusa``
  reads: weekly plan, extra days, absences, clinic closures, holidays);
- no overlap with an appointment that holds the dentist's time
  (``apps.clinic.selectors.agendamentos_que_ocupam``, the rows
  ``agendamento_em_conflito`` refuses on).

Not checked here: the patient's own overlapping appointments (a free slot is
the dentist's, it does not know the patient; the booking checks that). Starts
lie on the clinic's clock grid (``EXPEDIENTE_PASSO_MINUTOS``, default 15:
:00, :15, :30, :45 of the wall clock in ``TIME_ZONE``, what receptionists
expect), whatever minute the period starts at. A dentist with no weekly plan
(``Jornada``) has no working hours at all, so no slot is offered (the booking
accepts any time for them: the API says so in its ``aviso``).

An inactive dentist has no slots either (the booking refuses them). Five
queries per call whatever the range or the number of dentists (the active
dentists with their appointments, in one, and four of ``expediente``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import DateTimeField, IntegerField, Value
from django.utils import timezone

from apps.clinic.models import DURACAO_MAXIMA_MINUTOS, DURACAO_MINIMA_MINUTOS, Dentista
from apps.clinic.selectors import agendamentos_que_ocupam

from .selectors import Periodo, expediente

# Longest range one call may cover, in days (``de`` and ``ate`` included): two
# months, what a calendar page or a search shows; the cost is linear in it.
LIMITE_DIAS = 62


@dataclass(frozen=True)
class HorariosLivres:
    """One dentist's answer: ``horarios`` (aware starts in the clinic's zone, sorted).

    ``planejado`` is False when the dentist has no weekly plan, ``ativo``
    when the dentist is inactive or unknown; either way ``horarios`` is empty.
    """

    dentista_id: int
    horarios: list[datetime]
    planejado: bool
    ativo: bool = True


def validar_parametros(*, de: date, ate: date, duracao_minutos: int) -> None:
    """Raise ``ValueError`` (English, naming the parameter) for a range or duration out of bounds.

    ``de <= ate``, at most ``LIMITE_DIAS`` days (both included), and
    ``duracao_minutos`` between the booking's limits (5–480 minutes).
    """
    if ate < de:
        raise ValueError(f"ate ({ate}) must not be before de ({de})")
    if (ate - de).days + 1 > LIMITE_DIAS:
        raise ValueError(f"de..ate covers more than LIMITE_DIAS={LIMITE_DIAS} days")
    if not DURACAO_MINIMA_MINUTOS <= duracao_minutos <= DURACAO_MAXIMA_MINUTOS:
        raise ValueError(
            f"duracao_minutos must be between {DURACAO_MINIMA_MINUTOS} and "
            f"{DURACAO_MAXIMA_MINUTOS}, not {duracao_minutos!r}"
        )


def _primeiro_do_grid(instante: datetime, passo: timedelta) -> datetime:
    """The first start on the clock grid at or after ``instante`` (aware, clinic's zone)."""
    meia_noite = datetime.combine(instante.date(), time.min, tzinfo=instante.tzinfo)
    resto = (instante - meia_noite) % passo
    return instante if not resto else instante + (passo - resto)


def _livres_no_periodo(
    periodo: Periodo,
    ocupados: list[tuple[datetime, datetime]],
    fins: list[datetime],
    *,
    agora: datetime,
    duracao: timedelta,
    passo: timedelta,
) -> list[datetime]:
    """Grid starts ``s`` with ``[s, s + duracao)`` inside ``periodo``, ``s >= agora``, and free.

    ``ocupados`` is the dentist's busy time, merged (sorted, disjoint);
    ``fins`` its ends, for the bisection.
    """
    ini, fim = periodo
    inicio = _primeiro_do_grid(max(ini, agora), passo)
    livres: list[datetime] = []
    j = bisect_right(fins, inicio)  # first busy interval ending after inicio
    while inicio + duracao <= fim:
        while j < len(ocupados) and ocupados[j][1] <= inicio:
            j += 1
        if j < len(ocupados) and ocupados[j][0] < inicio + duracao:
            # Overlaps: jump to the first grid start at or after the busy end.
            inicio = _primeiro_do_grid(max(inicio + passo, ocupados[j][1]), passo)
            continue
        livres.append(inicio)
        inicio += passo
    return livres


def _unir(intervalos: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    unidos: list[tuple[datetime, datetime]] = []
    for ini, fim in intervalos:  # sorted by start
        if unidos and ini <= unidos[-1][1]:
            unidos[-1] = (unidos[-1][0], max(unidos[-1][1], fim))
        else:
            unidos.append((ini, fim))
    return unidos


def horarios_livres_detalhados(
    dentista_ids: Iterable[int], *, de: date, ate: date, duracao_minutos: int, agora: datetime
) -> dict[int, HorariosLivres]:
    """Free starts of each dentist, dates ``de``–``ate`` (inclusive, clinic's calendar).

    ``duracao_minutos`` (5–480) is the appointment's length; ``agora`` (aware)
    is the booking's "now". Returns ``{dentista_id: HorariosLivres}`` with
    every requested id (an unknown or inactive id: ``ativo`` False, no
    slots). Raises ``ValueError`` for the bounds of :func:`validar_parametros`.
    Five queries (one for the active dentists and their busy time, four of
    ``expediente``).
    """
    validar_parametros(de=de, ate=ate, duracao_minutos=duracao_minutos)
    pedidos = set(dentista_ids)
    zona = timezone.get_current_timezone()
    agora = agora.astimezone(zona)
    duracao = timedelta(minutes=duracao_minutos)
    passo = timedelta(minutes=settings.EXPEDIENTE_PASSO_MINUTOS)

    # One round trip for the active dentists (a row with no times each) and
    # their busy time over the whole range: a query less, on a machine where
    # each one costs more than the Python around it (docs/PERFORMANCE.md, 10).
    janela_ini = max(agora, datetime.combine(de, time.min, tzinfo=zona))
    janela_fim = datetime.combine(ate + timedelta(days=1), time.min, tzinfo=zona)
    ativos = (
        Dentista.objects.filter(pk__in=pedidos, ativo=True)
        .order_by()
        .annotate(
            ini=Value(None, output_field=DateTimeField()),
            minutos=Value(None, output_field=IntegerField()),
        )
        .values_list("pk", "ini", "minutos")
    )
    ocupacao = (
        # No join to the dentist here: PostgreSQL scanned the dentists once per
        # appointment (3.8 ms for a month); an inactive one's rows are dropped below.
        agendamentos_que_ocupam(dentista_ids=pedidos, inicio=janela_ini, fim=janela_fim)
        .order_by()
        # The length, not ``fim`` (the generated data_hora + duracao_minutos):
        # Django's timestamptz loader is pure Python, half the month's cost.
        .values_list("dentista_id", "data_hora", "duracao_minutos")
    )
    linhas = list(ativos.union(ocupacao, all=True))
    ocupados: dict[int, list[tuple[datetime, datetime]]] = {
        dentista_id: [] for dentista_id, ini, _fim in linhas if ini is None
    }
    for dentista_id, ini, minutos in linhas:
        if ini is not None and dentista_id in ocupados:
            # In UTC, as the generated ``fim`` is (no wall-clock arithmetic across a DST change).
            fim = ini + timedelta(minutes=minutos)
            ocupados[dentista_id].append((ini.astimezone(zona), fim.astimezone(zona)))
    ids = sorted(ocupados)

    dias = expediente(ids, de, ate)
    periodos: dict[int, list[Periodo]] = {
        d: [p for dia in dias[d].values() for p in dia.periodos if p[1] > agora] for d in ids
    }

    resultado: dict[int, HorariosLivres] = {}
    for d in ids:
        unidos = _unir(sorted(ocupados[d]))
        fins = [fim for _ini, fim in unidos]
        horarios: list[datetime] = []
        for periodo in periodos[d]:
            horarios.extend(
                _livres_no_periodo(periodo, unidos, fins, agora=agora, duracao=duracao, passo=passo)
            )
        planejado = any(dia.planejado for dia in dias[d].values())
        resultado[d] = HorariosLivres(dentista_id=d, horarios=horarios, planejado=planejado)
    for d in pedidos.difference(ids):
        resultado[d] = HorariosLivres(dentista_id=d, horarios=[], planejado=False, ativo=False)
    return resultado


def horarios_livres_por_dentista(
    dentista_ids: Iterable[int], *, de: date, ate: date, duracao_minutos: int, agora: datetime
) -> dict[int, list[datetime]]:
    """``{dentista_id: [aware starts, sorted]}``: :func:`horarios_livres_detalhados`'s starts."""
    detalhes = horarios_livres_detalhados(
        dentista_ids, de=de, ate=ate, duracao_minutos=duracao_minutos, agora=agora
    )
    return {d: h.horarios for d, h in detalhes.items()}


def horarios_livres(
    dentista_id: int, *, de: date, ate: date, duracao_minutos: int, agora: datetime
) -> list[datetime]:
    """One dentist's free starts ``de``–``ate`` (inclusive) for ``duracao_minutos``.

    Aware datetimes in the clinic's zone, sorted; empty when the dentist has
    no weekly plan or is inactive. Raises ``ValueError`` for a range over ``LIMITE_DIAS``
    days, ``ate < de`` or a duration outside 5–480 minutes.
    """
    return horarios_livres_por_dentista(
        [dentista_id], de=de, ate=ate, duracao_minutos=duracao_minutos, agora=agora
    )[dentista_id]
