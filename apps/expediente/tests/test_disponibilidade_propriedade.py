"""Property: the free slots and the booking agree, on random plans of a fixed week.

For random weekly plans, absences, extra days, closures, existing
appointments and durations, every start ``horarios_livres`` offers is
accepted by the booking's own check (``services.agendamento_validar_horario``),
and every other start on the clock grid inside the dentist's periods is
refused with one of the reasons the booking names: in the past, outside the
hours (``regras.motivo_recusa``'s text), or the dentist's overlapping
appointment. Each example is built in a savepoint and rolled back.
"""

from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.clinic.tests.relogio import AGORA, SP
from apps.expediente.disponibilidade import horarios_livres
from apps.expediente.models import Ausencia, DiaExtra, Fechamento, Jornada
from apps.expediente.regras import motivo_recusa
from apps.expediente.selectors import expediente

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

# Monday 30 November – Sunday 6 December 2026: AGORA (Wednesday 10:00) is
# inside it, so Monday, Tuesday and Wednesday morning are in the past.
SEGUNDA = date(2026, 11, 30)
DIAS = [SEGUNDA + timedelta(days=i) for i in range(7)]
PASSADO = "Não é possível agendar no passado sem a permissão de retroativo."
CONFLITO = "O dentista já tem um agendamento de "


def _hora(minutos: int) -> time:
    return time(minutos // 60, minutos % 60)


# A minute of the day on a 5-minute grid (not the slots' 15: periods may start at 08:10).
minuto = st.integers(min_value=6 * 12, max_value=20 * 12).map(lambda m: m * 5)
intervalo = st.tuples(minuto, st.integers(min_value=2, max_value=60).map(lambda n: n * 5))
dia = st.sampled_from(DIAS)

cenario = st.fixed_dictionaries(
    {
        "jornadas": st.lists(st.tuples(st.integers(0, 6), intervalo), max_size=8),
        "ausencias": st.lists(st.tuples(dia, st.integers(0, 2), st.none() | intervalo), max_size=2),
        "extras": st.lists(st.tuples(dia, intervalo), max_size=2),
        "fechamentos": st.lists(dia, max_size=1),
        "agendamentos": st.lists(
            st.tuples(
                dia,
                minuto,
                st.sampled_from([15, 20, 30, 45, 60]),
                st.sampled_from(["agendado", "confirmado", "concluido", "cancelado", "faltou"]),
                st.booleans(),  # horario_estimado
            ),
            max_size=8,
        ),
        "duracao": st.sampled_from([15, 20, 30, 45, 60, 90]),
    }
)


def _montar(c) -> int:
    dentista = DentistaFactory()
    paciente = PacienteFactory()
    aceitas: list[tuple[int, int, int]] = []
    for dia_semana, (ini, dur) in c["jornadas"]:
        fim = min(ini + dur, 1435)
        if any(d == dia_semana and ini < f and fim > i for d, i, f in aceitas):
            continue  # overlapping intervals of a weekday are refused (jornada_sem_sobreposicao)
        aceitas.append((dia_semana, ini, fim))
        Jornada.objects.create(
            dentista=dentista, dia_semana=dia_semana, inicio=_hora(ini), fim=_hora(fim)
        )
    for inicio, dias, horas in c["ausencias"]:
        extra = {}
        if horas:
            extra = {"hora_inicio": _hora(horas[0]), "hora_fim": _hora(min(sum(horas), 1435))}
        Ausencia.objects.create(
            dentista=dentista, data_inicio=inicio, data_fim=inicio + timedelta(days=dias), **extra
        )
    for data, (ini, dur) in c["extras"]:
        DiaExtra.objects.create(
            dentista=dentista, data=data, inicio=_hora(ini), fim=_hora(min(ini + dur, 1435))
        )
    for data in c["fechamentos"]:
        Fechamento.objects.create(data_inicio=data, data_fim=data, descricao="Dedetização")
    for data, ini, dur, status, estimado in c["agendamentos"]:
        try:
            with transaction.atomic():  # an overlap the exclusion constraint refuses: skip it
                Agendamento.objects.create(
                    paciente=paciente,
                    dentista=dentista,
                    data_hora=datetime.combine(data, _hora(ini), tzinfo=SP),
                    duracao_minutos=dur,
                    status=status,
                    active=status in ("agendado", "confirmado"),
                    horario_estimado=estimado,
                )
        except IntegrityError:
            pass
    return dentista.pk


def _recusa(dentista_id: int, inicio: datetime, duracao: int) -> str | None:
    """The booking's answer for ``inicio``: None (accepted) or its message."""
    agendamento = Agendamento(dentista_id=dentista_id, data_hora=inicio, duracao_minutos=duracao)
    try:
        services.agendamento_validar_horario(agendamento, now=AGORA, permitir_retroativo=False)
    except ValidationError as erro:
        return erro.message_dict["data_hora"][0]
    return None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(c=cenario)
def test_every_offered_start_books_and_every_other_is_refused_for_a_named_reason(c):
    with transaction.atomic():
        dentista_id = _montar(c)
        duracao = c["duracao"]
        oferecidos = horarios_livres(
            dentista_id, de=DIAS[0], ate=DIAS[-1], duracao_minutos=duracao, agora=AGORA
        )
        passo = timedelta(minutes=django_settings.EXPEDIENTE_PASSO_MINUTOS)
        assert oferecidos == sorted(set(oferecidos))
        for inicio in oferecidos:
            assert inicio.minute * 60 % passo.seconds == 0 and inicio.second == 0
            assert _recusa(dentista_id, inicio, duracao) is None, inicio

        oferta = set(oferecidos)
        dias = expediente([dentista_id], DIAS[0], DIAS[-1])[dentista_id]
        for dia_ in dias.values():
            for ini, fim in dia_.periodos:
                inicio = datetime.combine(dia_.dia, time.min, tzinfo=SP)
                while inicio < fim:
                    if inicio >= ini and inicio not in oferta:
                        motivo = _recusa(dentista_id, inicio, duracao)
                        assert motivo is not None, f"{inicio} refused by nobody but not offered"
                        assert (
                            motivo == PASSADO
                            or motivo
                            == motivo_recusa(
                                dentista_id, inicio, inicio + timedelta(minutes=duracao)
                            )
                            or motivo.startswith(CONFLITO)
                        ), motivo
                    inicio += passo
        transaction.set_rollback(True)
