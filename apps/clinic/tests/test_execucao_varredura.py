"""The sweep task records each run (ExecucaoVarredura), for the dead-man check of /health/ready."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from apps.clinic import services
from apps.clinic.models import ExecucaoVarredura
from apps.clinic.tasks import verificar_e_finalizar_agendamentos_passados as varredura
from core.locks import lock_exclusivo

from .factories import AgendamentoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado", "redis_url")]

Resultado = ExecucaoVarredura.Resultado


def _orfao():
    """A due appointment whose patient was deleted by hand (a bad row the sweep skips)."""
    orfao = AgendamentoFactory(data_hora=timezone.now() - timedelta(days=1))
    with connection.cursor() as cursor:
        # Deferred foreign keys: this test's transaction never commits.
        cursor.execute("DELETE FROM clinic_paciente WHERE id = %s", [orfao.paciente_id])
    return orfao


def _desfazer(orfao) -> None:
    # The test runner checks the deferred foreign keys at teardown.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_historicostatus WHERE agendamento_id = %s", [orfao.pk])
        cursor.execute("DELETE FROM clinic_agendamento WHERE id = %s", [orfao.pk])


def test_a_run_records_its_start_end_closed_and_skipped_bad_rows(relogio_parado):
    for horas in (2, 3):
        AgendamentoFactory(data_hora=relogio_parado - timedelta(hours=horas))
    orfao = _orfao()

    assert varredura.apply(task_id="t-1").get() == 2

    execucao = ExecucaoVarredura.objects.get()
    assert (execucao.task_id, execucao.resultado) == ("t-1", Resultado.CONCLUIDA)
    assert (execucao.fechados, execucao.ignorados) == (2, 1)
    assert execucao.iniciada_em == execucao.terminada_em == relogio_parado
    _desfazer(orfao)


def test_the_service_still_returns_the_closed_count_and_fills_the_callers_set(relogio_parado):
    AgendamentoFactory(data_hora=relogio_parado - timedelta(hours=2))
    orfao = _orfao()
    ignorados: set[int] = set()

    assert services.finalizar_agendamentos_vencidos(now=relogio_parado, ignorados=ignorados) == 1
    assert ignorados == {orfao.pk}
    _desfazer(orfao)


def test_a_run_that_finds_the_lock_taken_is_recorded_as_skipped():
    with lock_exclusivo("verificar_e_finalizar_agendamentos_passados", expira_em_segundos=30):
        assert varredura.apply().get() is None
    assert ExecucaoVarredura.objects.get().resultado == Resultado.PULADA


def test_a_run_that_fails_is_recorded_as_failed_and_still_raises(monkeypatch):
    def quebra(**kwargs):
        kwargs["ignorados"].add(42)
        raise DatabaseError("statement timeout")

    monkeypatch.setattr(services, "finalizar_agendamentos_vencidos", quebra)
    resultado = varredura.apply()

    assert isinstance(resultado.result, DatabaseError)
    execucao = ExecucaoVarredura.objects.get()
    assert execucao.resultado == Resultado.FALHOU
    assert execucao.ignorados == 1 and execucao.terminada_em is not None


def test_only_the_newest_runs_are_kept(settings):
    settings.VARREDURA_EXECUCOES_MANTIDAS = 3
    for _ in range(5):
        varredura.apply()

    ids = list(ExecucaoVarredura.objects.values_list("id", flat=True))
    assert len(ids) == 3
    assert ids == sorted(ids, reverse=True)
    assert min(ids) == max(ids) - 2  # the three newest
