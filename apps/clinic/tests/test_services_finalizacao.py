"""Unit tests of the closing service (executar_finalizacao and its batch twin)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento, HistoricoStatus

from .factories import AgendamentoFactory

# The clock stands at relogio.AGORA: timezone.now() is that instant all test long.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


def _agendamento(inicio_relativo: timedelta, **kwargs) -> Agendamento:
    ag = AgendamentoFactory(data_hora=timezone.now() + inicio_relativo, **kwargs)
    ag.refresh_from_db()
    return ag


def test_it_closes_an_appointment_that_has_ended():
    ag = _agendamento(-timedelta(hours=1), duracao_minutos=30, observacoes="Extração do 48")

    atendimento = services.executar_finalizacao(ag, now=timezone.now(), task_id="t-1")

    ag.refresh_from_db()
    assert (ag.status, ag.active) == (Agendamento.Status.CONCLUIDO, False)
    assert atendimento.origem == Atendimento.Origem.AUTOMATICO
    assert atendimento.diagnostico == "Consulta finalizada automaticamente via sistema"
    assert atendimento.tratamento_realizado == "Extração do 48"
    # The history says who did it: the system, with the Celery task id.
    ultimo = ag.historico.order_by("id").last()
    assert (ultimo.status_anterior, ultimo.status_novo) == ("agendado", "concluido")
    assert ultimo.usuario is None and ultimo.task_id == "t-1"
    assert ultimo.ator == "sistema (t-1)"


def test_blank_observacoes_give_the_clinics_default_treatment_text():
    ag = _agendamento(-timedelta(hours=2), observacoes="   ")
    atendimento = services.executar_finalizacao(ag, now=timezone.now())
    assert atendimento.tratamento_realizado == "Realizado conforme agendamento"


def test_it_never_closes_an_appointment_in_progress():
    # Started 20 minutes ago, lasts 30: still running.
    ag = _agendamento(-timedelta(minutes=20), duracao_minutos=30)
    assert services.executar_finalizacao(ag, now=timezone.now()) is None
    assert services.finalizar_agendamentos_vencidos(now=timezone.now()) == 0
    ag.refresh_from_db()
    assert ag.active and not Atendimento.objects.exists()


def test_it_never_closes_a_future_appointment():
    ag = _agendamento(timedelta(days=1))
    assert services.executar_finalizacao(ag, now=timezone.now()) is None
    ag.refresh_from_db()
    assert ag.status == Agendamento.Status.AGENDADO


def test_the_end_is_start_plus_duration_to_the_minute():
    ag = _agendamento(-timedelta(minutes=45), duracao_minutos=45)
    # Ends exactly now: not yet "before now".
    assert services.executar_finalizacao(ag, now=timezone.now()) is None
    assert services.executar_finalizacao(ag, now=timezone.now() + timedelta(seconds=1))


def test_the_grace_period_delays_the_close(settings):
    settings.FINALIZACAO_TOLERANCIA_MINUTOS = 15
    ag = _agendamento(-timedelta(minutes=40), duracao_minutos=30)  # ended 10 min ago
    assert services.executar_finalizacao(ag, now=timezone.now()) is None
    assert services.executar_finalizacao(ag, now=timezone.now() + timedelta(minutes=6))


def test_closing_twice_changes_nothing_the_second_time():
    ag = _agendamento(-timedelta(hours=3))
    assert services.executar_finalizacao(ag, now=timezone.now()) is not None
    assert services.executar_finalizacao(ag, now=timezone.now()) is None
    assert services.finalizar_agendamentos_vencidos(now=timezone.now()) == 0
    assert Atendimento.objects.filter(agendamento=ag).count() == 1
    assert HistoricoStatus.objects.filter(agendamento=ag, status_novo="concluido").count() == 1


@pytest.mark.parametrize("status", [Agendamento.Status.FALTOU, Agendamento.Status.CANCELADO])
def test_missed_and_cancelled_appointments_are_left_alone(status):
    ag = _agendamento(-timedelta(days=2), status=status, active=False)
    assert services.executar_finalizacao(ag, now=timezone.now()) is None
    assert services.finalizar_agendamentos_vencidos(now=timezone.now()) == 0
    ag.refresh_from_db()
    assert ag.status == status
    assert not Atendimento.objects.exists()


def test_a_confirmed_appointment_is_closed_and_its_history_says_from_confirmado():
    ag = _agendamento(-timedelta(hours=2), status=Agendamento.Status.CONFIRMADO)
    services.executar_finalizacao(ag, now=timezone.now())
    assert ag.historico.get(status_novo="concluido").status_anterior == "confirmado"


def test_the_sweep_closes_every_due_appointment_and_only_those():
    vencidos = [_agendamento(-timedelta(hours=h)) for h in range(2, 9)]
    em_andamento = _agendamento(-timedelta(minutes=5))
    futuro = _agendamento(timedelta(hours=1))

    assert services.finalizar_agendamentos_vencidos(now=timezone.now(), tamanho_lote=3) == 7

    assert set(Atendimento.objects.values_list("agendamento_id", flat=True)) == {
        ag.pk for ag in vencidos
    }
    assert Agendamento.objects.get(pk=em_andamento.pk).active
    assert Agendamento.objects.get(pk=futuro.pk).active


def test_the_sweep_is_set_based_not_a_query_per_row():
    for h in range(2, 52):
        _agendamento(-timedelta(hours=h))
    with CaptureQueriesContext(connection) as queries:
        assert services.finalizar_agendamentos_vencidos(now=timezone.now(), tamanho_lote=20) == 50
    # 3 batches (20, 20, 10) x (select + update + 2 inserts), plus savepoints/transaction
    # statements, whatever the row count; SQLite may split inserts at 999 parameters.
    statements = [
        q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert len(statements) <= 16


def test_the_end_stays_in_step_when_data_hora_is_changed_by_raw_sql():
    ag = _agendamento(timedelta(days=3), duracao_minutos=50)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_agendamento SET data_hora = %s WHERE id = %s",
            [timezone.now() - timedelta(days=1), ag.pk],
        )
    ag.refresh_from_db()
    assert ag.fim == ag.data_hora + timedelta(minutes=50)
    assert services.finalizar_agendamentos_vencidos(now=timezone.now()) == 1
