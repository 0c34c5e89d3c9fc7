"""End to end: real beat, two real workers on the reminders' queue, real Redis, real SMTP.

Times are built from the real ``timezone.now()`` read once at the start (the
processes read the machine's clock). The rules' lead times make every
reminder due within seconds: rule "5 min" for appointments starting 5 min
10 s ahead is due 10 s in; rule "6 min" was due 50 s ago, inside its 5 min
tolerance, so it is due at once.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.clinic import services as clinica
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.clinic.tests.support import BIN, Proc, process_env, wait_until
from apps.lembretes import services
from apps.lembretes.models import Lembrete, RegraLembrete
from apps.lembretes.tasks import buscar_lembretes_devidos, enviar_lembrete

from .apoio import Mensagens, servidor_smtp

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_real]

CORRIDA = 12  # appointments the two workers and the many finders race for


def _celery(nome, args, env, logs_dir) -> Proc:
    return Proc(nome, [str(BIN / "celery"), "-A", "core", *args], env, logs_dir)


@pytest.fixture
def smtp():
    handler = Mensagens()
    controller = servidor_smtp(handler)
    yield controller, handler
    controller.stop()


def _paciente(i: int, **campos):
    campos.setdefault("email", f"paciente{i}@example.org")
    return PacienteFactory(nome=f"Fulana{i} Sigilosa{i}", telefone=f"+55119{i:08d}", **campos)


def test_one_message_per_rule_per_appointment_none_for_closed_or_moved_even_racing(
    redis_url, logs_dir, smtp
):
    controller, servidor = smtp
    agora = timezone.now()  # the real clock, read once
    fila = f"lembretes-teste-{os.getpid()}"
    env = process_env(
        redis_url=redis_url,
        EMAIL_URL=f"smtp://127.0.0.1:{controller.port}",
        LEMBRETES_FILA=fila,
        SITE_URL="https://clinica.example.org",
    )

    # Two rules; the finder every second (edited as an operator would in the admin).
    Lembrete.objects.all().delete()
    RegraLembrete.objects.all().delete()
    modelo = "Olá, {paciente}! {data} às {hora} com {dentista}. {link}"
    cinco = RegraLembrete.objects.create(
        nome="5 min", antecedencia_minutos=5, tolerancia_minutos=5, modelo=modelo, assunto="A"
    )
    seis = RegraLembrete.objects.create(
        nome="6 min", antecedencia_minutos=6, tolerancia_minutos=5, modelo=modelo, assunto="B"
    )
    services.agenda_lembretes_garantir()
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    tarefa.interval, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    tarefa.save()

    inicio = agora + timedelta(minutes=5, seconds=10)

    def agendar(i: int, quando=inicio, **campos):
        return clinica.agendamento_criar(
            paciente=_paciente(i, **campos),
            dentista=DentistaFactory(nome=f"Dra. Dentista{i}"),
            data_hora=quando,
            observacoes="DIAGNOSTICO-SECRETO",
            now=agora,
        )

    aberto = agendar(1)
    cancelado = agendar(2)
    faltou = agendar(3)
    remarcado = agendar(4, quando=agora + timedelta(minutes=40))
    sem_email = agendar(5, email="")
    corrida = [agendar(10 + i) for i in range(CORRIDA)]
    clinica.agendamento_cancelar(cancelado, usuario=None, now=agora, motivo="viagem")
    # A no-show is recorded once the start has passed (the service's `now`).
    clinica.agendamento_marcar_falta(faltou, usuario=None, now=inicio + timedelta(minutes=1))
    novo_inicio = inicio + timedelta(seconds=20)
    clinica.agendamento_reagendar(remarcado, usuario=None, now=agora, data_hora=novo_inicio)

    workers = [
        _celery(
            f"lembretes-w{n}",
            [
                "worker",
                "-Q",
                fila,
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
                "--hostname",
                f"lembretes{n}-{os.getpid()}@%h",
            ],
            env,
            logs_dir,
        )
        for n in (1, 2)
    ]
    beat = None
    try:
        for worker in workers:
            worker.wait_for_output(" ready.", timeout=60)
        beat = _celery("lembretes-beat", ["beat", "--loglevel", "INFO"], env, logs_dir)
        beat.wait_for_output(f"Sending due task {services.NOME_TAREFA_PERIODICA}", timeout=30)
        # When rule "5 min" falls due: many finders at once, on top of beat's...
        wait_until(
            lambda: timezone.now() >= inicio - timedelta(minutes=5),
            timeout=60,
            what="rule 5 min to fall due",
        )
        for _ in range(20):
            buscar_lembretes_devidos.apply_async(queue=fila)
        # ...and every one of its reminders enqueued three more times (as if
        # the finder thought the first message lost): the claim decides.
        da_corrida = Lembrete.objects.filter(regra=cinco, agendamento__in=corrida)
        wait_until(
            lambda: da_corrida.count() == CORRIDA, timeout=30, what="the race's reminder rows"
        )
        for lembrete_id in da_corrida.values_list("id", flat=True):
            for _ in range(3):
                enviar_lembrete.apply_async(args=[lembrete_id], queue=fila)

        esperados = 2 * (2 + CORRIDA)  # two rules × (aberto, remarcado, the race)
        wait_until(
            lambda: len(servidor.recebidas) >= esperados,
            timeout=90,
            what=f"{esperados} messages on the SMTP server",
        )
        # A few more finder runs after the last message: still nothing more.
        vistos = beat.output().count("Sending due task")
        wait_until(
            lambda: beat.output().count("Sending due task") >= vistos + 3,
            timeout=30,
            what="three more finder runs",
        )
    finally:
        if beat is not None:
            beat.stop()
        for worker in workers:
            worker.stop()

    # On the SMTP server: exactly one message per rule per appointment.
    por_destino = Counter(
        (rcpt, envelope.original_content.split(b"Subject: ")[1][:1])
        for envelope in servidor.recebidas
        for rcpt in envelope.rcpt_tos
    )
    assert len(servidor.recebidas) == esperados
    for agendamento in [aberto, remarcado, *corrida]:
        email = agendamento.paciente.email
        assert por_destino[(email, b"A")] == 1 and por_destino[(email, b"B")] == 1
    for agendamento in (cancelado, faltou, sem_email):
        assert not any(rcpt == agendamento.paciente.email for rcpt, _ in por_destino)
    # The moved appointment's messages name its new time.
    hora_nova = timezone.localtime(novo_inicio).strftime("%H:%M").encode()
    for envelope in servidor.recebidas:
        if envelope.rcpt_tos == [remarcado.paciente.email]:
            assert hora_nova in envelope.original_content

    # In the database: one row per (appointment, rule, start), sent exactly once.
    enviados = Lembrete.objects.filter(situacao=Lembrete.Situacao.ENVIADO)
    assert enviados.count() == esperados
    assert not (
        Lembrete.objects.values("agendamento", "regra", "inicio")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    assert set(remarcado.lembretes.values_list("inicio", "situacao")) == {(novo_inicio, "enviado")}
    assert not cancelado.lembretes.exists() and not faltou.lembretes.exists()
    assert set(sem_email.lembretes.values_list("regra", "motivo")) == {
        (cinco.pk, "sem_contato"),
        (seis.pk, "sem_contato"),
    }
    assert set(enviados.values_list("tentativas", flat=True)) == {1}

    # Privacy: the processes' logs hold none of the patients' data nor the bodies.
    logs = "\n".join(proc.output() for proc in [*workers, beat])
    assert "enviado" in logs  # the outcome is logged, by id
    for agendamento in [aberto, cancelado, faltou, remarcado, sem_email, *corrida]:
        paciente = agendamento.paciente
        for segredo in (paciente.nome, paciente.nome.split()[0], paciente.telefone):
            assert segredo not in logs
        if paciente.email:
            assert paciente.email not in logs
    for trecho in ("Olá", "DIAGNOSTICO", "/confirmar/", "example.org"):
        assert trecho not in logs
