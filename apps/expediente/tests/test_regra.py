"""The working-hours rule through the clinic's booking service (the hook of apps.clinic.regras)."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from apps.clinic import services
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.clinic.tests.relogio import AGORA, SP
from apps.expediente.models import Ausencia, DiaExtra, Fechamento, Jornada

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

# AGORA is Wednesday 2 December 2026; 25 December 2026 (Natal) is a Friday.
QUINTA = date(2026, 12, 3)
NATAL = date(2026, 12, 25)


def _as(dia: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(dia, time(hh, mm), tzinfo=SP)


@pytest.fixture
def dentista():
    d = DentistaFactory()
    for dia_semana in range(5):
        Jornada.objects.create(dentista=d, dia_semana=dia_semana, inicio=time(8), fim=time(12))
        Jornada.objects.create(dentista=d, dia_semana=dia_semana, inicio=time(13), fim=time(18))
    return d


def _agendar(dentista, inicio, duracao=30, **kw):
    return services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=dentista,
        data_hora=inicio,
        duracao_minutos=duracao,
        now=AGORA,
        **kw,
    )


def _mensagem(dentista, inicio, duracao=30) -> str:
    with pytest.raises(ValidationError) as erro:
        _agendar(dentista, inicio, duracao)
    return erro.value.message_dict["data_hora"][0]


def test_inside_the_plan_is_accepted(dentista):
    assert _agendar(dentista, _as(QUINTA, 8)).pk
    assert _agendar(dentista, _as(QUINTA, 11, 30)).pk  # ends at 12:00 exactly


def test_at_three_in_the_morning_names_the_days_hours(dentista):
    assert _mensagem(dentista, _as(QUINTA, 3)) == (
        "Fora do expediente do dentista na quinta-feira, 03/12/2026, "
        "que é das 08:00 às 12:00 e das 13:00 às 18:00."
    )


def test_across_lunch_is_refused(dentista):
    assert _mensagem(dentista, _as(QUINTA, 11, 45)) == (
        "Fora do expediente do dentista na quinta-feira, 03/12/2026, "
        "que é das 08:00 às 12:00 e das 13:00 às 18:00: o atendimento terminaria às 12:15."
    )


def test_past_the_end_of_the_day_is_refused(dentista):
    assert _mensagem(dentista, _as(QUINTA, 17, 45)).endswith(": o atendimento terminaria às 18:15.")


def test_past_midnight_is_refused_even_on_an_extra_day_until_23_59(dentista):
    DiaExtra.objects.create(dentista=dentista, data=QUINTA, inicio=time(19), fim=time(23, 59))
    assert _mensagem(dentista, _as(QUINTA, 23, 30), duracao=60) == (
        "Fora do expediente do dentista na quinta-feira, 03/12/2026, que é das 08:00 às "
        "12:00, das 13:00 às 18:00 e das 19:00 às 23:59: o atendimento passaria da meia-noite."
    )


def test_a_weekend_day_without_plan(dentista):
    assert _mensagem(dentista, _as(QUINTA + timedelta(days=2), 9)) == (
        "O dentista não atende no sábado, 05/12/2026: não há expediente nesse dia."
    )


def test_a_national_holiday(dentista):
    assert _mensagem(dentista, _as(NATAL, 9)) == (
        "O dentista não atende na sexta-feira, 25/12/2026: feriado nacional: Natal."
    )


def test_a_state_holiday_of_the_clinics_state(dentista, settings):
    # 9 July (Revolução Constitucionalista) is São Paulo's; 2027-07-09 is a Friday.
    settings.CLINICA_UF = "SP"
    assert _mensagem(dentista, _as(date(2027, 7, 9), 9)) == (
        "O dentista não atende na sexta-feira, 09/07/2027: "
        "feriado estadual: Revolução Constitucionalista."
    )
    settings.CLINICA_UF = "RJ"
    assert _agendar(dentista, _as(date(2027, 7, 9), 9)).pk


def test_holidays_switched_off_close_nothing(dentista, settings):
    settings.EXPEDIENTE_FERIADOS = False
    assert _agendar(dentista, _as(NATAL, 9)).pk


def test_a_partial_absence_names_the_hours_left_and_why(dentista):
    Ausencia.objects.create(
        dentista=dentista,
        tipo="outro",
        data_inicio=QUINTA,
        data_fim=QUINTA,
        hora_inicio=time(13),
        hora_fim=time(18),
        motivo="Congresso",
    )
    assert _mensagem(dentista, _as(QUINTA, 14)) == (
        "Fora do expediente do dentista na quinta-feira, 03/12/2026, "
        "que é das 08:00 às 12:00 (ausência (Congresso))."
    )


def test_vacation_and_clinic_closure(dentista):
    Ausencia.objects.create(
        dentista=dentista, tipo="ferias", data_inicio=QUINTA, data_fim=QUINTA + timedelta(days=7)
    )
    assert _mensagem(dentista, _as(QUINTA, 9)) == (
        "O dentista não atende na quinta-feira, 03/12/2026: férias."
    )
    Fechamento.objects.create(
        data_inicio=date(2026, 12, 14), data_fim=date(2026, 12, 14), descricao="Dedetização"
    )
    assert _mensagem(dentista, _as(date(2026, 12, 14), 9)).endswith(
        ": clínica fechada: Dedetização."
    )


def test_an_extra_day_opens_a_saturday_and_a_holiday(dentista):
    sabado = QUINTA + timedelta(days=2)
    DiaExtra.objects.create(dentista=dentista, data=sabado, inicio=time(8), fim=time(12))
    DiaExtra.objects.create(dentista=dentista, data=NATAL, inicio=time(9), fim=time(10))
    assert _agendar(dentista, _as(sabado, 9)).pk
    assert _agendar(dentista, _as(NATAL, 9)).pk


def test_a_dentist_without_plan_has_no_rule():
    assert _agendar(DentistaFactory(), _as(NATAL, 3)).pk


def test_the_gestor_override_is_recorded(dentista):
    ag = _agendar(dentista, _as(QUINTA, 3), permitir_fora_do_expediente=True)
    assert ag.historico.get().motivo.startswith("Agendado fora do expediente: Fora do expediente")
