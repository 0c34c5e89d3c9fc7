"""The due-finder: the rows it writes, discards and enqueues (clock stopped at AGORA)."""

from datetime import timedelta

import pytest
import time_machine

from apps.clinic import services as clinica
from apps.lembretes import selectors, services
from apps.lembretes.models import Lembrete, RegraLembrete

from .apoio import agendar, regras_do_teste

pytestmark = pytest.mark.django_db

S, M = Lembrete.Situacao, Lembrete.Motivo


@pytest.fixture
def regra(relogio_parado):
    return regras_do_teste()


@pytest.fixture
def buscar(django_capture_on_commit_callbacks):
    """``buscar(now)``: run the finder; returns (counts, ids published)."""

    def rodar(now):
        publicados: list[int] = []
        with django_capture_on_commit_callbacks(execute=True):
            contagem = services.buscar_devidos(now=now, publicar=publicados.extend)
        return contagem, publicados

    return rodar


def _situacoes(agendamento):
    return list(agendamento.lembretes.values_list("situacao", "motivo"))


def test_an_appointment_inside_the_rules_lead_gets_one_pending_reminder_enqueued(
    regra, relogio_parado, buscar
):
    agora = relogio_parado
    devido = agendar(agora + timedelta(hours=23), now=agora)
    longe = agendar(agora + timedelta(hours=25), now=agora)

    contagem, publicados = buscar(agora)

    lembrete = Lembrete.objects.get(agendamento=devido)
    assert (lembrete.situacao, lembrete.regra_id, lembrete.canal) == (S.PENDENTE, regra.pk, "email")
    assert lembrete.inicio == devido.data_hora
    assert lembrete.previsto_para == devido.data_hora - timedelta(hours=24)
    assert publicados == [lembrete.pk]
    assert contagem["enfileirados"] == 1
    assert not longe.lembretes.exists()


def test_the_window_edges_start_excluded_lead_included(regra, relogio_parado, buscar):
    agora = relogio_parado
    no_limite = agendar(agora + timedelta(hours=24), now=agora)
    buscar(agora)
    assert _situacoes(no_limite) == [(S.PENDENTE, "")]


def test_a_reminder_whose_window_passed_is_recorded_skipped_not_sent(regra, relogio_parado, buscar):
    agora = relogio_parado
    # Due 3 h ago (the finder was down), tolerance 2 h: skipped.
    atrasado = agendar(agora + timedelta(hours=21), now=agora)
    # Due 1 h ago: still inside the tolerance, sent late but before the start.
    tolerado = agendar(agora + timedelta(hours=23, minutes=-60), now=agora)

    _, publicados = buscar(agora)

    assert _situacoes(atrasado) == [(S.IGNORADO, M.JANELA_PASSADA)]
    assert _situacoes(tolerado) == [(S.PENDENTE, "")]
    assert publicados == [tolerado.lembretes.get().pk]


def test_a_patient_without_an_address_on_the_channel_is_recorded_sem_contato(
    regra, relogio_parado, buscar
):
    agora = relogio_parado
    webhook = RegraLembrete.objects.create(
        nome="wh", antecedencia_minutos=24 * 60, tolerancia_minutos=120, canal="webhook", modelo="x"
    )
    sem_email = agendar(agora + timedelta(hours=23), now=agora, email="")
    sem_nada = agendar(agora + timedelta(hours=22), now=agora, email="", telefone="  ")

    _, publicados = buscar(agora)

    por_regra = lambda ag: dict(  # noqa: E731
        ag.lembretes.values_list("regra_id", "motivo")
    )
    assert por_regra(sem_email) == {regra.pk: M.SEM_CONTATO, webhook.pk: ""}
    assert por_regra(sem_nada) == {regra.pk: M.SEM_CONTATO, webhook.pk: M.SEM_CONTATO}
    assert publicados == [sem_email.lembretes.get(regra=webhook).pk]


def test_cancel_and_no_show_stop_the_pending_reminders(regra, relogio_parado, buscar):
    agora = relogio_parado
    cancelado = agendar(agora + timedelta(hours=23), now=agora)
    faltou = agendar(agora + timedelta(hours=23, minutes=30), now=agora)
    cancelado_antes = agendar(agora + timedelta(hours=22), now=agora)
    clinica.agendamento_cancelar(cancelado_antes, usuario=None, now=agora, motivo="viagem")
    buscar(agora)
    assert not cancelado_antes.lembretes.exists()  # closed before due: no row at all

    clinica.agendamento_cancelar(cancelado, usuario=None, now=agora, motivo="viagem")
    depois = agora + timedelta(hours=23, minutes=31)
    with time_machine.travel(depois, tick=False):
        clinica.agendamento_marcar_falta(faltou, usuario=None, now=depois)
        contagem, publicados = buscar(depois)

    assert _situacoes(cancelado) == [(S.IGNORADO, M.AGENDAMENTO_FECHADO)]
    assert _situacoes(faltou) == [(S.IGNORADO, M.AGENDAMENTO_FECHADO)]
    assert contagem[M.AGENDAMENTO_FECHADO] == 2
    assert publicados == []


def test_a_reschedule_makes_the_new_start_due_and_the_old_reminder_never_goes_out(
    regra, relogio_parado, buscar
):
    agora = relogio_parado
    agendamento = agendar(agora + timedelta(hours=23), now=agora)
    buscar(agora)
    antigo = agendamento.lembretes.get()

    clinica.agendamento_reagendar(
        agendamento, usuario=None, now=agora, data_hora=agora + timedelta(hours=20)
    )
    _, publicados = buscar(agora)

    antigo.refresh_from_db()
    assert (antigo.situacao, antigo.motivo) == (S.IGNORADO, M.REMARCADO)
    novo = agendamento.lembretes.exclude(pk=antigo.pk).get()
    # 20 h ahead: due 4 h ago, past the 2 h tolerance. A fresh row all the same.
    assert novo.inicio == agora + timedelta(hours=20)
    assert (novo.situacao, novo.motivo) == (S.IGNORADO, M.JANELA_PASSADA)
    assert publicados == []


def test_a_reschedule_to_a_later_start_gets_a_pending_reminder_for_it(
    regra, relogio_parado, buscar
):
    agora = relogio_parado
    agendamento = agendar(agora + timedelta(hours=23), now=agora)
    buscar(agora)
    nova = agora + timedelta(hours=23, minutes=45)
    clinica.agendamento_reagendar(agendamento, usuario=None, now=agora, data_hora=nova)
    _, publicados = buscar(agora)

    novo = agendamento.lembretes.get(inicio=nova)
    assert novo.situacao == S.PENDENTE
    assert publicados == [novo.pk]


def test_an_inactive_rule_writes_nothing_and_its_pending_reminders_are_discarded(
    regra, relogio_parado, buscar
):
    agora = relogio_parado
    agendamento = agendar(agora + timedelta(hours=23), now=agora)
    buscar(agora)
    regra.ativa = False
    regra.save()
    outro = agendar(agora + timedelta(hours=22), now=agora)

    buscar(agora)

    assert _situacoes(agendamento) == [(S.IGNORADO, M.REGRA_INATIVA)]
    assert not outro.lembretes.exists()


def test_two_finders_write_one_row_per_appointment_rule_and_start(regra, relogio_parado, buscar):
    agora = relogio_parado
    agendamento = agendar(agora + timedelta(hours=23), now=agora)
    # The second finder read the appointment before the first wrote its row.
    linhas = selectors.agendamentos_devidos(regra, now=agora, depois_de=None)
    buscar(agora)
    canal = __import__("apps.lembretes.canais", fromlist=["canal_para"]).canal_para("email")
    Lembrete.objects.bulk_create(
        [services._novo(regra, canal, linha, now=agora) for linha in linhas],
        ignore_conflicts=True,
    )
    buscar(agora)
    assert agendamento.lembretes.count() == 1


def test_a_pending_row_is_enqueued_again_only_once_its_message_may_be_lost(
    regra, relogio_parado, buscar, settings
):
    agora = relogio_parado
    agendar(agora + timedelta(hours=23), now=agora)
    _, primeiro = buscar(agora)
    _, segundo = buscar(agora + timedelta(seconds=60))
    _, depois = buscar(agora + timedelta(seconds=settings.LEMBRETES_REENFILEIRAR_SEGUNDOS))
    assert (len(primeiro), segundo, depois) == (1, [], primeiro)


def test_a_row_stuck_sending_past_the_hard_limit_is_marked_interrupted_never_resent(
    regra, relogio_parado, buscar
):
    agora = relogio_parado
    agendamento = agendar(agora + timedelta(hours=23), now=agora)
    buscar(agora)
    Lembrete.objects.update(situacao=S.ENVIANDO, updated_at=agora)
    prazo = timedelta(seconds=selectors.prazo_enviando_segundos())

    buscar(agora + prazo - timedelta(seconds=1))
    assert _situacoes(agendamento) == [(S.ENVIANDO, "")]
    _, publicados = buscar(agora + prazo + timedelta(seconds=1))
    assert _situacoes(agendamento) == [(S.FALHOU, M.INTERROMPIDO)]
    assert publicados == []


def test_the_finder_works_in_batches(regra, relogio_parado, buscar, monkeypatch):
    monkeypatch.setattr(selectors, "LOTE", 2)
    agora = relogio_parado
    agendamentos = [agendar(agora + timedelta(hours=20 + i), now=agora) for i in range(5)]
    contagem, publicados = buscar(agora)
    # 20 h and 21 h: past the window; 22, 23, 24 h: pending.
    assert sum(a.lembretes.count() for a in agendamentos) == 5
    assert contagem[M.JANELA_PASSADA] == 2 and contagem[S.PENDENTE] == 3
    assert len(publicados) == 3
    for agendamento in agendamentos[:2]:
        clinica.agendamento_cancelar(agendamento, usuario=None, now=agora, motivo="x")
    for agendamento in agendamentos[2:]:
        clinica.agendamento_cancelar(agendamento, usuario=None, now=agora, motivo="x")
    contagem, _ = buscar(agora)
    assert contagem[M.AGENDAMENTO_FECHADO] == 3


def test_migrate_puts_the_finder_in_beats_schedule_every_60_s_and_keeps_an_edited_one():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    # post_migrate (apps.py) created it when the test database was migrated.
    tarefa = PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA)
    assert tarefa.task == "apps.lembretes.tasks.buscar_lembretes_devidos"
    assert (tarefa.interval.every, tarefa.interval.period) == (60, IntervalSchedule.SECONDS)
    tarefa.interval, _ = IntervalSchedule.objects.get_or_create(every=5, period="seconds")
    tarefa.save()
    assert services.agenda_lembretes_garantir() is False
    assert PeriodicTask.objects.get(name=services.NOME_TAREFA_PERIODICA).interval.every == 5
    PeriodicTask.objects.filter(name=services.NOME_TAREFA_PERIODICA).delete()
    assert services.agenda_lembretes_garantir() is True
