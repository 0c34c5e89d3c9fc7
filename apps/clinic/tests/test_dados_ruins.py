"""Bad data in the database never stops the sweep: bad rows are skipped and reported."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento

from .factories import AgendamentoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


def _vencidos(n: int) -> list[Agendamento]:
    return [AgendamentoFactory(data_hora=timezone.now() - timedelta(hours=2 + i)) for i in range(n)]


@pytest.mark.parametrize("tabela", ["clinic_paciente", "clinic_dentista"])
def test_an_appointment_whose_patient_or_dentist_was_deleted_by_hand_is_skipped(tabela, caplog):
    bons = _vencidos(5)
    orfao = AgendamentoFactory(data_hora=timezone.now() - timedelta(days=1))
    coluna = "paciente_id" if tabela == "clinic_paciente" else "dentista_id"
    with connection.cursor() as cursor:
        # By hand, as an operator with psql would (the foreign keys are deferred,
        # and this test's transaction never commits).
        cursor.execute(f"DELETE FROM {tabela} WHERE id = %s", [getattr(orfao, coluna)])

    assert services.finalizar_agendamentos_vencidos(now=timezone.now(), tamanho_lote=2) == 5

    assert Atendimento.objects.filter(agendamento__in=bons).count() == 5
    assert Agendamento.objects.filter(pk=orfao.pk, active=True).exists()
    assert f"bad data open: ids [{orfao.pk}]" in caplog.text
    # Undo the damage: the test runner checks the deferred foreign keys at teardown.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_historicostatus WHERE agendamento_id = %s", [orfao.pk])
        cursor.execute("DELETE FROM clinic_agendamento WHERE id = %s", [orfao.pk])


def _falhar_no_historico_de(agendamento_id: int) -> None:
    """A trigger that makes inserting a history row of ``agendamento_id`` fail.

    The failure comes from the database, whatever statement the sweep uses
    to write its history rows (the trigger lives in this test's transaction).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION falha_simulada() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN RAISE EXCEPTION 'simulated failure'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER falha_simulada BEFORE INSERT ON clinic_historicostatus"
                f" FOR EACH ROW WHEN (NEW.agendamento_id = {int(agendamento_id)})"
                " EXECUTE FUNCTION falha_simulada()"
            )
        else:
            cursor.execute(
                "CREATE TEMP TRIGGER falha_simulada BEFORE INSERT ON clinic_historicostatus"
                f" WHEN NEW.agendamento_id = {int(agendamento_id)}"
                " BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
            )


def test_a_batch_that_fails_in_the_database_is_retried_row_by_row(caplog):
    linhas = _vencidos(6)
    ruim = linhas[3]
    _falhar_no_historico_de(ruim.pk)

    fechados = services.finalizar_agendamentos_vencidos(now=timezone.now(), tamanho_lote=4)

    assert fechados == 5
    assert not Atendimento.objects.filter(agendamento=ruim).exists()
    assert Agendamento.objects.get(pk=ruim.pk).active  # rolled back whole, not half-done
    assert Atendimento.objects.count() == 5
    assert f"appointment {ruim.pk} could not be closed" in caplog.text


def test_an_end_before_the_start_cannot_even_be_stored():
    ag = AgendamentoFactory()
    # fim is computed by the database from a duration it requires to be 5-480.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_agendamento SET duracao_minutos = -30 WHERE id = %s", [ag.pk])
