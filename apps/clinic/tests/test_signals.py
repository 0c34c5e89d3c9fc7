"""The post_save signal enqueues the closing only after commit, and only when due."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from apps.clinic import services

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

DELAY = "apps.clinic.tasks.processar_agendamento_especifico.delay"


def _criar(inicio_relativo: timedelta, **kwargs):
    return services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=timezone.now() + inicio_relativo,
        permitir_retroativo=True,
        **kwargs,
    )


def test_a_past_appointment_is_enqueued_after_commit_not_before(
    django_capture_on_commit_callbacks,
):
    with mock.patch(DELAY) as delay:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            ag = _criar(-timedelta(hours=2))
            # Still inside the transaction: nothing published yet.
            delay.assert_not_called()
        assert len(callbacks) == 1
        delay.assert_called_once_with(ag.pk)


def test_nothing_is_enqueued_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    with mock.patch(DELAY) as delay:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(RuntimeError), transaction.atomic():
                _criar(-timedelta(hours=2))
                raise RuntimeError("rollback")
        assert callbacks == []
        delay.assert_not_called()


@pytest.mark.parametrize("inicio", [timedelta(days=1), -timedelta(minutes=10)])
def test_future_and_in_progress_appointments_are_not_enqueued(
    inicio, django_capture_on_commit_callbacks
):
    with mock.patch(DELAY) as delay:
        with django_capture_on_commit_callbacks(execute=True):
            ag = _criar(inicio, duracao_minutos=30)
        with django_capture_on_commit_callbacks(execute=True):
            ag.observacoes = "editado durante a consulta"
            ag.save()
        delay.assert_not_called()


def test_rescheduling_into_the_past_enqueues(django_capture_on_commit_callbacks):
    ag = AgendamentoFactory()
    with mock.patch(DELAY) as delay:
        with django_capture_on_commit_callbacks(execute=True):
            ag.data_hora = timezone.now() - timedelta(days=1)
            ag.save()
        delay.assert_called_once_with(ag.pk)


def test_a_closed_appointment_saved_again_is_not_enqueued(django_capture_on_commit_callbacks):
    ag = AgendamentoFactory(
        data_hora=timezone.now() - timedelta(days=1), status="faltou", active=False
    )
    with mock.patch(DELAY) as delay:
        with django_capture_on_commit_callbacks(execute=True):
            ag.observacoes = "ligou depois"
            ag.save()
        delay.assert_not_called()


def test_a_broker_failure_is_logged_without_personal_data_and_the_save_stands(
    django_capture_on_commit_callbacks, caplog
):
    paciente = PacienteFactory(nome="Maria Sigilosa da Silva")
    with mock.patch(DELAY, side_effect=ConnectionRefusedError("broker down")):
        with django_capture_on_commit_callbacks(execute=True):
            ag = services.agendamento_criar(
                paciente=paciente,
                dentista=DentistaFactory(),
                data_hora=timezone.now() - timedelta(hours=3),
                permitir_retroativo=True,
            )
    ag.refresh_from_db()
    assert ag.active  # saved, still open: the sweep will close it
    assert f"appointment {ag.pk}" in caplog.text
    assert "Maria" not in caplog.text
