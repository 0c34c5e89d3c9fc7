"""``manage.py demo`` (the clinic's) gives the demo dentist a weekly plan, through its signal."""

from datetime import time, timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.clinic import services
from apps.clinic.models import Agendamento, Dentista, Paciente
from apps.clinic.tests.relogio import AGORA
from apps.expediente.models import Jornada
from apps.expediente.regras import motivo_recusa

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("demo")
    return Dentista.objects.get()


def test_the_demo_dentist_works_monday_to_friday_with_a_lunch_break(demo):
    plano = set(Jornada.objects.filter(dentista=demo).values_list("dia_semana", "inicio", "fim"))
    assert plano == {
        (dia, inicio, fim)
        for dia in range(5)
        for inicio, fim in ((time(8), time(12)), (time(13), time(18)))
    }


def test_the_demo_still_has_its_appointments_and_those_to_come_fit_the_plan(demo):
    assert Agendamento.objects.count() == 5
    # AGORA is a Wednesday: tomorrow 14:00 and Friday 16:00, 45 minutes each.
    futuros = Agendamento.objects.filter(data_hora__gt=AGORA)
    assert futuros.count() == 2
    for ag in futuros:
        assert motivo_recusa(ag.dentista_id, ag.data_hora, ag.fim_calculado) is None


def test_the_demo_dentist_cannot_be_booked_at_three_in_the_morning(demo):
    with pytest.raises(ValidationError, match="Fora do expediente do dentista na quinta-feira"):
        services.agendamento_criar(
            paciente=Paciente.objects.first(),
            dentista=demo,
            data_hora=AGORA.replace(hour=3) + timedelta(days=1),
            duracao_minutos=30,
            now=AGORA,
        )


def test_a_failing_plan_undoes_the_whole_demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with (
        mock.patch(
            "apps.expediente.receivers.jornada_semanal_definir", side_effect=RuntimeError("boom")
        ),
        pytest.raises(RuntimeError),
    ):
        call_command("demo")
    assert not get_user_model().objects.exists()
    assert not Agendamento.objects.exists()
