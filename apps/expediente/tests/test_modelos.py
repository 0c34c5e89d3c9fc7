"""The working-hours models' invariants: clean() in pt-BR, and the database's last word."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from apps.clinic.tests.factories import DentistaFactory
from apps.expediente.models import Ausencia, DiaExtra, Fechamento, Jornada

pytestmark = pytest.mark.django_db

so_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL only"
)

SOBREPOSTA = "Este intervalo se sobrepõe a outro do mesmo dia da semana."


def _erros(instancia) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as erro:
        instancia.full_clean()
    return erro.value.message_dict


@pytest.fixture
def dentista():
    return DentistaFactory()


def test_an_overlapping_interval_on_the_same_weekday_is_refused(dentista):
    Jornada.objects.create(dentista=dentista, dia_semana=0, inicio=time(8), fim=time(12))
    nova = Jornada(dentista=dentista, dia_semana=0, inicio=time(11), fim=time(14))
    assert _erros(nova) == {"__all__": [SOBREPOSTA]}


def test_touching_intervals_other_weekdays_and_other_dentists_are_fine(dentista):
    Jornada.objects.create(dentista=dentista, dia_semana=0, inicio=time(8), fim=time(12))
    Jornada(dentista=dentista, dia_semana=0, inicio=time(12), fim=time(13)).full_clean()
    Jornada(dentista=dentista, dia_semana=1, inicio=time(8), fim=time(12)).full_clean()
    Jornada(dentista=DentistaFactory(), dia_semana=0, inicio=time(8), fim=time(12)).full_clean()


def test_editing_an_interval_does_not_overlap_itself(dentista):
    j = Jornada.objects.create(dentista=dentista, dia_semana=0, inicio=time(8), fim=time(12))
    j.fim = time(12, 30)
    j.full_clean()


def test_an_interval_must_end_after_it_starts(dentista):
    erros = _erros(Jornada(dentista=dentista, dia_semana=0, inicio=time(12), fim=time(8)))
    assert "O fim deve ser depois do início." in str(erros)


@so_postgresql
def test_the_database_refuses_an_overlap_that_skipped_clean(dentista):
    # Two admin tabs saving at once both pass clean(); the constraint stops the second.
    Jornada.objects.create(dentista=dentista, dia_semana=2, inicio=time(8), fim=time(12))
    Jornada.objects.create(dentista=dentista, dia_semana=2, inicio=time(12), fim=time(13))
    with pytest.raises(IntegrityError, match="jornada_sem_sobreposicao"), transaction.atomic():
        Jornada.objects.create(dentista=dentista, dia_semana=2, inicio=time(9), fim=time(10))
    assert Jornada.objects.filter(dentista=dentista).count() == 2


def test_an_absence_ends_on_or_after_it_starts(dentista):
    erros = _erros(
        Ausencia(dentista=dentista, data_inicio=date(2026, 12, 10), data_fim=date(2026, 12, 9))
    )
    assert erros["data_fim"] == ["A data final deve ser igual ou posterior à inicial."]
    Ausencia(
        dentista=dentista, data_inicio=date(2026, 12, 10), data_fim=date(2026, 12, 10)
    ).full_clean()


def test_a_partial_day_absence_needs_both_hours_in_order(dentista):
    dias = {"data_inicio": date(2026, 12, 10), "data_fim": date(2026, 12, 10)}
    so_uma = Ausencia(dentista=dentista, hora_inicio=time(13), **dias)
    # Once, on the missing hour (it was said twice: clean()'s and the constraint's).
    assert _erros(so_uma) == {
        "hora_fim": ["Informe as duas horas (a final depois da inicial) ou nenhuma."]
    }
    invertida = Ausencia(dentista=dentista, hora_inicio=time(13), hora_fim=time(9), **dias)
    assert _erros(invertida)["hora_fim"] == ["A hora final deve ser depois da inicial."]
    Ausencia(dentista=dentista, hora_inicio=time(13), hora_fim=time(18), **dias).full_clean()


def test_the_database_refuses_an_absence_with_one_hour(dentista):
    with pytest.raises(IntegrityError), transaction.atomic():
        Ausencia.objects.create(
            dentista=dentista,
            data_inicio=date(2026, 12, 10),
            data_fim=date(2026, 12, 10),
            hora_inicio=time(13),
        )


@pytest.mark.parametrize("ano", [1899, 2101])
def test_years_outside_the_clinics_limits_are_refused(dentista, ano):
    mensagem = ["Informe um ano entre 1900 e 2100."]
    ausencia = Ausencia(dentista=dentista, data_inicio=date(ano, 1, 1), data_fim=date(ano, 1, 2))
    assert _erros(ausencia)["data_inicio"] == mensagem
    extra = DiaExtra(dentista=dentista, data=date(ano, 1, 1), inicio=time(8), fim=time(9))
    assert _erros(extra)["data"] == mensagem
    fechamento = Fechamento(data_inicio=date(2026, 1, 1), data_fim=date(ano, 1, 1), descricao="X")
    assert _erros(fechamento)["data_fim"] == mensagem


def test_a_closure_needs_its_dates_in_order_and_a_description():
    erros = _erros(Fechamento(data_inicio=date(2026, 12, 24), data_fim=date(2026, 12, 23)))
    assert erros["data_fim"] == ["A data final deve ser igual ou posterior à inicial."]
    assert "descricao" in erros
