"""The original plan's manual check, automated, with a real worker and real beat.

1. Book an appointment in the future.
2. Move its ``data_hora`` into the past with raw SQL (no ORM, no signal).
3. ``verificar_e_finalizar_agendamentos_passados.delay()``: the worker closes it.
4. Start beat: the sweep is sent on its schedule and closes the next one.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento
from apps.clinic.tasks import verificar_e_finalizar_agendamentos_passados

from .factories import DentistaFactory, PacienteFactory
from .support import BIN, Proc, process_env, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]


def _futuro_movido_para_o_passado() -> Agendamento:
    ag = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=timezone.now() + timedelta(days=7),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE clinic_agendamento SET data_hora = %s WHERE id = %s",
            [timezone.now() - timedelta(days=2), ag.pk],
        )
    return ag


def test_a_row_moved_to_the_past_by_sql_is_closed_by_the_sweep_then_by_beat(
    celery_worker, redis_url, logs_dir
):
    ag = _futuro_movido_para_o_passado()
    assert Agendamento.objects.get(pk=ag.pk).active  # no signal fired for the raw UPDATE

    assert verificar_e_finalizar_agendamentos_passados.delay().get(timeout=30) == 1
    ag.refresh_from_db()
    assert ag.status == "concluido"
    assert ag.atendimento.diagnostico == "Consulta finalizada automaticamente via sistema"

    # The schedule lives in the database (django-celery-beat): hourly by default...
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    assert (tarefa.crontab.minute, tarefa.crontab.hour) == ("0", "*")
    # ...and editable, as an operator would in the admin: every second for the test.
    tarefa.crontab = None
    tarefa.interval, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    tarefa.save()

    segundo = _futuro_movido_para_o_passado()
    beat = Proc(
        "beat",
        [str(BIN / "celery"), "-A", "core", "beat", "--loglevel", "INFO"],
        process_env(redis_url=redis_url),
        logs_dir,
    )
    try:
        beat.wait_for_output(f"Sending due task {services.NOME_TAREFA_PERIODICA}", timeout=30)
        wait_until(
            lambda: Atendimento.objects.filter(agendamento_id=segundo.pk).exists(),
            timeout=30,
            what="beat's sweep to close the second appointment",
        )
    finally:
        beat.stop()
