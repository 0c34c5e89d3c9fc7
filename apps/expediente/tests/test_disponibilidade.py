"""Free slots (apps.expediente.disponibilidade): grid, hours, appointments, the clock."""

from datetime import date, datetime, time, timedelta

import pytest

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.clinic.tests.relogio import AGORA, SP
from apps.expediente.disponibilidade import (
    LIMITE_DIAS,
    horarios_livres,
    horarios_livres_por_dentista,
)
from apps.expediente.models import Ausencia, DiaExtra, Fechamento, Jornada

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

QUARTA = AGORA.date()  # Wednesday 2 December 2026, 10:00
QUINTA = date(2026, 12, 3)
NATAL = date(2026, 12, 25)  # a Friday


def _as(dia: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(dia, time(hh, mm), tzinfo=SP)


def _horas(starts: list[datetime]) -> list[str]:
    return [s.strftime("%H:%M") for s in starts]


@pytest.fixture
def dentista():
    d = DentistaFactory()
    for dia_semana in range(5):
        Jornada.objects.create(dentista=d, dia_semana=dia_semana, inicio=time(8), fim=time(12))
        Jornada.objects.create(dentista=d, dia_semana=dia_semana, inicio=time(13), fim=time(18))
    return d


def _livres(dentista, dia, duracao=30, agora=AGORA, ate=None):
    return horarios_livres(
        dentista.pk, de=dia, ate=ate or dia, duracao_minutos=duracao, agora=agora
    )


def test_a_free_day_offers_every_grid_start_that_fits_in_a_period(dentista):
    livres = _livres(dentista, QUINTA, duracao=60)
    # 08:00..11:00 and 13:00..17:00, every 15 minutes; the hour must fit.
    assert _horas(livres)[:2] == ["08:00", "08:15"]
    assert "11:00" in _horas(livres) and "11:15" not in _horas(livres)
    assert _horas(livres)[-1] == "17:00"
    assert len(livres) == 13 + 17
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(hours=-3) for s in livres)
    assert livres == sorted(livres)


def test_starts_are_on_the_clock_grid_even_when_the_period_is_not(dentista):
    DiaExtra.objects.create(
        dentista=dentista, data=date(2026, 12, 5), inicio=time(9, 10), fim=time(10, 0)
    )
    assert _horas(_livres(dentista, date(2026, 12, 5))) == ["09:15", "09:30"]


def test_past_starts_are_not_offered(dentista):
    # Today at 10:00: the morning's earlier starts are gone.
    assert _horas(_livres(dentista, QUARTA))[:2] == ["10:00", "10:15"]
    quase = AGORA + timedelta(minutes=1)
    assert _horas(_livres(dentista, QUARTA, agora=quase))[0] == "10:15"


def test_an_appointment_removes_its_slots_and_a_cancelled_one_does_not(dentista):
    ag = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=dentista,
        data_hora=_as(QUINTA, 9),
        duracao_minutos=30,
        now=AGORA,
    )
    horas = _horas(_livres(dentista, QUINTA))
    assert "08:30" in horas and "09:30" in horas
    assert "08:45" not in horas and "09:00" not in horas and "09:15" not in horas
    services.agendamento_cancelar(ag, usuario=None, motivo="teste", now=AGORA)
    assert "09:00" in _horas(_livres(dentista, QUINTA))


def test_placeholder_times_do_not_hold_the_dentist(dentista):
    Agendamento.objects.create(
        paciente=PacienteFactory(),
        dentista=dentista,
        data_hora=_as(QUINTA, 9),
        horario_estimado=True,
    )
    assert "09:00" in _horas(_livres(dentista, QUINTA))


def test_holidays_closures_and_vacations_give_no_slots(dentista):
    assert _livres(dentista, NATAL) == []
    Fechamento.objects.create(data_inicio=QUINTA, data_fim=QUINTA, descricao="Reforma")
    assert _livres(dentista, QUINTA) == []
    sexta = date(2026, 12, 4)
    Ausencia.objects.create(dentista=dentista, tipo="ferias", data_inicio=sexta, data_fim=sexta)
    assert _livres(dentista, sexta) == []
    # The weekend has no plan either; the week after is open.
    assert _livres(dentista, date(2026, 12, 5), ate=date(2026, 12, 6)) == []
    assert _livres(dentista, date(2026, 12, 7))


def test_a_dentist_without_a_plan_has_no_slots():
    assert (
        horarios_livres(
            DentistaFactory().pk, de=QUINTA, ate=QUINTA, duracao_minutos=30, agora=AGORA
        )
        == []
    )


def test_many_dentists_in_six_queries_whatever_the_range(dentista, django_assert_num_queries):
    outro = DentistaFactory()
    Jornada.objects.create(dentista=outro, dia_semana=3, inicio=time(8), fim=time(9))
    with django_assert_num_queries(6):
        resultado = horarios_livres_por_dentista(
            [dentista.pk, outro.pk],
            de=QUINTA,
            ate=QUINTA + timedelta(days=LIMITE_DIAS - 1),
            duracao_minutos=30,
            agora=AGORA,
        )
    assert _horas(resultado[outro.pk][:4]) == ["08:00", "08:15", "08:30", "08:00"]


@pytest.mark.parametrize(
    ("de", "ate", "duracao", "palavra"),
    [
        (QUINTA, QUARTA, 30, "ate"),
        (QUINTA, QUINTA + timedelta(days=LIMITE_DIAS), 30, "LIMITE_DIAS"),
        (QUINTA, QUINTA, 4, "duracao_minutos"),
        (QUINTA, QUINTA, 481, "duracao_minutos"),
    ],
)
def test_bounds_raise_value_error_naming_the_parameter(dentista, de, ate, duracao, palavra):
    with pytest.raises(ValueError, match=palavra):
        horarios_livres(dentista.pk, de=de, ate=ate, duracao_minutos=duracao, agora=AGORA)


def test_an_inactive_dentist_has_no_slots(dentista):
    dentista.ativo = False
    dentista.save()
    assert _livres(dentista, QUINTA) == []
