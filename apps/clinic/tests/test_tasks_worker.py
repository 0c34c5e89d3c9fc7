"""Integration: a real Celery worker (subprocess) against real Redis closes appointments."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento
from apps.clinic.tasks import verificar_e_finalizar_agendamentos_passados

from .factories import DentistaFactory, PacienteFactory
from .support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]


def _fechado(pk: int) -> bool:
    return Atendimento.objects.filter(agendamento_id=pk).exists()


def test_saving_a_past_appointment_gets_it_closed_by_the_worker(celery_worker):
    ag = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=timezone.now() - timedelta(hours=2),
        observacoes="Profilaxia",
        permitir_retroativo=True,
    )
    wait_until(lambda: _fechado(ag.pk), timeout=20, what="the worker to close the appointment")
    ag.refresh_from_db()
    assert (ag.status, ag.active) == ("concluido", False)
    historico = ag.historico.get(status_novo="concluido")
    # The actor is the system with the id of the Celery task that did it.
    assert historico.usuario is None and len(historico.task_id) == 36
    assert "processar_agendamento_especifico" in celery_worker.output()
    assert historico.task_id in celery_worker.output()


def test_the_sweep_closes_a_backlog(celery_worker):
    paciente, dentista = PacienteFactory(), DentistaFactory()
    inicio = timezone.now() - timedelta(days=90)
    # bulk_create sends no post_save: only the sweep can close these.
    Agendamento.objects.bulk_create(
        Agendamento(
            paciente=paciente, dentista=dentista, data_hora=inicio + timedelta(minutes=30 * i)
        )
        for i in range(3000)
    )
    Agendamento.objects.bulk_create(
        Agendamento(
            paciente=paciente,
            dentista=dentista,
            data_hora=timezone.now() + timedelta(days=1, minutes=30 * i),
        )
        for i in range(10)
    )
    resultado = verificar_e_finalizar_agendamentos_passados.delay()
    assert resultado.get(timeout=60) == 3000
    assert Atendimento.objects.filter(origem="automatico").count() == 3000
    assert Agendamento.objects.filter(active=True).count() == 10
