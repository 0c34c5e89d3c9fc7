"""The operator's command, the sweep's schedule in django-celery-beat and its lock."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.clinic.tasks import verificar_e_finalizar_agendamentos_passados
from core.locks import lock_exclusivo

from .factories import AgendamentoFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


def test_finalizar_agendamentos_closes_the_due_ones_and_says_how_many():
    for horas in (2, 3, 4):
        AgendamentoFactory(data_hora=timezone.now() - timedelta(hours=horas))
    AgendamentoFactory()  # tomorrow
    out = StringIO()
    call_command("finalizar_agendamentos", stdout=out)
    assert out.getvalue().startswith("3 agendamento(s) finalizado(s)")
    assert Agendamento.objects.filter(active=True).count() == 1


def test_the_sweep_is_scheduled_hourly_at_minute_zero_after_migrate():
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    assert tarefa.task == "apps.clinic.tasks.verificar_e_finalizar_agendamentos_passados"
    assert tarefa.enabled and tarefa.interval is None
    cron = tarefa.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week) == (
        "0",
        "*",
        "*",
        "*",
        "*",
    )
    assert str(cron.timezone) == "America/Sao_Paulo"


def test_an_existing_schedule_edited_in_the_admin_is_kept(settings):
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    tarefa.crontab.minute = "30"
    tarefa.crontab.save()
    settings.FINALIZACAO_CRONTAB = "15 * * * *"
    assert services.agenda_finalizacao_garantir() is False
    assert PeriodicTask.objects.get(pk=tarefa.pk).crontab.minute == "30"


def test_the_schedule_setting_can_be_an_interval_in_seconds(settings):
    PeriodicTask.objects.filter(name=services.NOME_TAREFA_PERIODICA).delete()
    settings.FINALIZACAO_INTERVALO_SEGUNDOS = 300
    assert services.agenda_finalizacao_garantir() is True
    intervalo = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA).interval
    assert (intervalo.every, intervalo.period) == (300, "seconds")


def test_a_crontab_without_five_fields_is_refused(settings):
    PeriodicTask.objects.filter(name=services.NOME_TAREFA_PERIODICA).delete()
    settings.FINALIZACAO_CRONTAB = "0 *"
    with pytest.raises(ValueError, match="5 fields"):
        services.agenda_finalizacao_garantir()


def test_a_sweep_that_finds_the_lock_taken_does_nothing(redis_url):
    ag = AgendamentoFactory(data_hora=timezone.now() - timedelta(hours=2))
    nome = "verificar_e_finalizar_agendamentos_passados"
    with lock_exclusivo(nome, expira_em_segundos=30) as obtido:
        assert obtido
        # Another run (another beat, a slow run) holds it: this one is a no-op.
        assert verificar_e_finalizar_agendamentos_passados.apply().get() is None
        assert Agendamento.objects.get(pk=ag.pk).active
    assert verificar_e_finalizar_agendamentos_passados.apply().get() == 1


def test_a_redelivered_sweep_takes_over_the_lock_of_its_own_dead_run(redis_url):
    # The worker died mid-sweep: its lock is still in Redis under the task id,
    # and acks_late + reject_on_worker_lost deliver the same task id again.
    ag = AgendamentoFactory(data_hora=timezone.now() - timedelta(hours=2))
    nome = "verificar_e_finalizar_agendamentos_passados"
    from core.locks import redis_client

    # The key a SIGKILLed holder leaves behind (it no longer renews it).
    assert redis_client().set(f"nexkodonto:lock:{nome}", "tarefa-123", nx=True, px=600_000)
    try:
        # Another task id still finds the lock taken...
        assert verificar_e_finalizar_agendamentos_passados.apply(task_id="outra").get() is None
        # ...but the redelivery of the dead run goes ahead at once.
        assert verificar_e_finalizar_agendamentos_passados.apply(task_id="tarefa-123").get() == 1
        assert not Agendamento.objects.get(pk=ag.pk).active
        # and releases the lock when done.
        assert verificar_e_finalizar_agendamentos_passados.apply(task_id="outra").get() == 0
    finally:
        redis_client().delete(f"nexkodonto:lock:{nome}")
