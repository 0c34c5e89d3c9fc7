"""Database invariants of the clinic's models."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.clinic import services
from apps.clinic.models import Atendimento, HistoricoStatus

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


@pytest.mark.parametrize(
    ("status", "active"),
    [
        ("agendado", False),
        ("confirmado", False),
        ("concluido", True),
        ("faltou", True),
        ("cancelado", True),
    ],
)
def test_the_database_refuses_active_out_of_step_with_status(status, active):
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendamentoFactory(status=status, active=active)


@pytest.mark.parametrize("duracao", [4, 481])
def test_the_database_refuses_a_duration_outside_5_to_480_minutes(duracao):
    with pytest.raises(IntegrityError), transaction.atomic():
        AgendamentoFactory(duracao_minutos=duracao)


def test_one_visit_record_per_appointment_is_enforced_by_the_database():
    ag = AgendamentoFactory()
    Atendimento.objects.create(agendamento=ag)
    with pytest.raises(IntegrityError), transaction.atomic():
        Atendimento.objects.create(agendamento=ag)


def test_the_end_is_computed_by_the_database():
    ag = AgendamentoFactory(duracao_minutos=75)
    ag.refresh_from_db()
    assert ag.fim - ag.data_hora == timedelta(minutes=75)
    assert ag.fim == ag.fim_calculado


def test_booking_validates_before_saving_with_pt_br_messages():
    with pytest.raises(ValidationError) as exc:
        services.agendamento_criar(
            paciente=PacienteFactory(),
            dentista=DentistaFactory(),
            data_hora=timezone.now(),
            duracao_minutos=3,
        )
    assert "duracao_minutos" in exc.value.message_dict
    assert "maior ou igual a 5" in exc.value.message_dict["duracao_minutos"][0]
    assert not HistoricoStatus.objects.exists()


def test_the_status_history_is_append_only():
    ag = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=timezone.now() + timedelta(days=1),
    )
    linha = ag.historico.get()
    linha.motivo = "reescrito"
    with pytest.raises(TypeError):
        linha.save()
    with pytest.raises(TypeError):
        linha.delete()
