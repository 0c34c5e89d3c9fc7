"""The closing tasks' results, as a real worker stores them, and their retention.

Celery's database result backend (django-celery-results) keeps one row per
task run for the gestor's admin page (apps/operacao/admin_resultados.py): ids
and counts only, never a patient's data. ``celery.backend_cleanup``, which
django-celery-beat's scheduler installs because ``result_expires`` is set,
deletes the rows older than RESULTADOS_RETENCAO_DIAS.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_results.models import TaskResult

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.clinic.tasks import verificar_e_finalizar_agendamentos_passados

from .factories import DentistaFactory, PacienteFactory
from .support import BIN, Proc, process_env, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]

UM = "apps.clinic.tasks.processar_agendamento_especifico"
DADOS_PESSOAIS = {
    "nome": "Valquíria Resultado Sigilosa",
    "cpf": "529.982.247-25",
    "telefone": "(11) 98765-4321",
    "email": "valquiria.sigilosa@example.com",
}
OBSERVACOES = "Paciente relata dor reservada"


def _colunas(resultado: TaskResult) -> str:
    return " ".join(str(getattr(resultado, f.attname)) for f in TaskResult._meta.fields)


def test_a_close_and_a_sweep_store_their_outcome_with_ids_and_counts_only(celery_worker):
    paciente = PacienteFactory(**DADOS_PESSOAIS)
    agendamento = services.agendamento_criar(
        paciente=paciente,
        dentista=DentistaFactory(),
        data_hora=timezone.now() - timedelta(hours=3),
        observacoes=OBSERVACOES,
        permitir_retroativo=True,
    )

    # The save's on-commit publish: the worker closes it and stores True, with
    # the id in its arguments (the publisher's argsrepr, JSON-encoded).
    fechamento = wait_until(
        lambda: TaskResult.objects.filter(
            task_name=UM, status="SUCCESS", task_args=f'"({agendamento.pk},)"'
        ).first(),
        timeout=30,
        what="the close's result row",
    )
    assert Agendamento.objects.get(pk=agendamento.pk).status == "concluido"
    assert (fechamento.result, fechamento.task_kwargs) == ("true", '"{}"')
    assert fechamento.worker and fechamento.date_done

    # A sweep's result is its count (nothing left to close: 0).
    resultado = verificar_e_finalizar_agendamentos_passados.delay()
    assert resultado.get(timeout=30) == 0
    varredura = TaskResult.objects.get(task_id=resultado.id)
    assert (varredura.status, varredura.result) == ("SUCCESS", "0")
    assert varredura.task_name == verificar_e_finalizar_agendamentos_passados.name

    # No column of any result holds the patient's data or the free text.
    for resultado in TaskResult.objects.all():
        texto = _colunas(resultado)
        for valor in [*DADOS_PESSOAIS.values(), "52998224725", "98765", OBSERVACOES]:
            assert valor not in texto, (resultado.task_name, valor)


def test_beat_schedules_the_cleanup_and_it_deletes_results_past_the_retention(
    celery_worker, redis_url, logs_dir
):
    # django-celery-beat's scheduler installs celery.backend_cleanup (daily, 04:00).
    PeriodicTask.objects.filter(task="celery.backend_cleanup").delete()
    beat = Proc(
        "beat-limpeza",
        [str(BIN / "celery"), "-A", "core", "beat", "--loglevel", "INFO"],
        process_env(redis_url=redis_url),
        logs_dir,
    )
    try:
        limpeza = wait_until(
            lambda: PeriodicTask.objects.filter(task="celery.backend_cleanup").first(),
            timeout=30,
            what="beat to install celery.backend_cleanup",
        )
    finally:
        beat.stop()
    assert limpeza.enabled
    assert (limpeza.crontab.minute, limpeza.crontab.hour) == ("0", "4")

    # Older than RESULTADOS_RETENCAO_DIAS: deleted; younger: kept.
    dias = settings.RESULTADOS_RETENCAO_DIAS
    for task_id, idade in [("velho", dias + 1), ("recente", dias - 1)]:
        TaskResult.objects.create(task_id=task_id, task_name=UM, status="SUCCESS", result="true")
        TaskResult.objects.filter(task_id=task_id).update(
            date_done=timezone.now() - timedelta(days=idade)
        )
    from core.celery import app

    app.send_task("celery.backend_cleanup").get(timeout=30)
    assert not TaskResult.objects.filter(task_id="velho").exists()
    assert TaskResult.objects.filter(task_id="recente").exists()
