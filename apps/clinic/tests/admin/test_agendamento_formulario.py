"""Booking and rescheduling in the admin: agendamento_criar and agendamento_reagendar."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.clinic.models import Agendamento, Dentista

from .apoio import AGORA, texto

pytestmark = pytest.mark.django_db

ADD = "/admin/clinic/agendamento/add/"


def _horario(inicio) -> dict:
    local = timezone.localtime(inicio)
    return {"data_hora_0": local.strftime("%d/%m/%Y"), "data_hora_1": local.strftime("%H:%M:%S")}


def _inlines() -> dict:
    return {
        f"{prefixo}-{campo}": 0
        for prefixo in ("atendimento", "historico")
        for campo in ("TOTAL_FORMS", "INITIAL_FORMS")
    }


def _nova(clinica, inicio, **extra) -> dict:
    return {
        "paciente": clinica.paciente_a.pk,
        "dentista": clinica.dentista_a.pk,
        "duracao_minutos": 30,
        "observacoes": "",
        **_horario(inicio),
        **_inlines(),
        **extra,
    }


def test_the_receptionist_books_through_the_service_with_a_history_row(clinica, como):
    inicio = AGORA + timedelta(days=3)

    resposta = como(clinica.recepcao).post(ADD, _nova(clinica, inicio))

    assert resposta.status_code == 302
    novo = Agendamento.objects.get(data_hora=inicio)
    linha = novo.historico.get()
    assert (linha.status_novo, linha.usuario, linha.registrado_em) == (
        "agendado",
        clinica.recepcao,
        AGORA,
    )


@pytest.mark.parametrize(
    ("deslocamento", "esperado"),
    [
        (timedelta(days=2, minutes=10), "O dentista já tem um agendamento de"),
        (timedelta(hours=-1), "Não é possível agendar no passado sem a permissão de retroativo."),
    ],
)
def test_the_booking_form_answers_with_the_services_messages(clinica, como, deslocamento, esperado):
    antes = Agendamento.objects.count()

    resposta = como(clinica.recepcao).post(ADD, _nova(clinica, AGORA + deslocamento))

    assert resposta.status_code == 200
    assert esperado in texto(resposta)
    assert Agendamento.objects.count() == antes


def test_an_inactive_dentist_is_refused_with_the_services_message(clinica, como):
    Dentista.objects.filter(pk=clinica.dentista_b.pk).update(ativo=False)

    resposta = como(clinica.recepcao).post(
        ADD, _nova(clinica, AGORA + timedelta(days=3), dentista=clinica.dentista_b.pk)
    )

    assert "Este dentista está inativo e não recebe agendamentos." in texto(resposta)


def test_a_dentist_cannot_book_or_reschedule_in_the_admin(clinica, como):
    dentista = como(clinica.usuario_a)
    pagina = f"/admin/clinic/agendamento/{clinica.a_futuro.pk}/change/"

    assert dentista.post(ADD, _nova(clinica, AGORA + timedelta(days=3))).status_code == 403
    novo_horario = {**_horario(AGORA + timedelta(days=4)), "duracao_minutos": 30}
    assert dentista.post(pagina, {**novo_horario, **_inlines()}).status_code == 403
    clinica.a_futuro.refresh_from_db()
    assert clinica.a_futuro.data_hora == AGORA + timedelta(days=2)


def test_the_receptionist_reschedules_an_open_appointment(clinica, como):
    pagina = f"/admin/clinic/agendamento/{clinica.a_futuro.pk}/change/"
    novo = AGORA + timedelta(days=4)
    dados = {**_horario(novo), "duracao_minutos": 45, "observacoes": "trazer exames"}

    resposta = como(clinica.recepcao).post(pagina, {**dados, **_inlines()})

    assert resposta.status_code == 302
    ag = Agendamento.objects.get(pk=clinica.a_futuro.pk)
    assert (ag.data_hora, ag.duracao_minutos, ag.observacoes) == (novo, 45, "trazer exames")
    assert ag.fim == novo + timedelta(minutes=45)


def test_a_page_that_says_nothing_was_saved_saved_nothing(clinica, como):
    # No inline management data: Django shows the form again, as not saved.
    sem_inlines = {
        k: v for k, v in _nova(clinica, AGORA + timedelta(days=3)).items() if "-" not in k
    }

    resposta = como(clinica.recepcao).post(ADD, sem_inlines)

    assert resposta.status_code == 200
    assert not Agendamento.objects.filter(data_hora=AGORA + timedelta(days=3)).exists()


def test_the_booking_form_refuses_a_date_without_a_time_of_day(clinica, como):
    dados = {**_nova(clinica, AGORA + timedelta(days=3)), "data_hora_1": ""}

    resposta = como(clinica.recepcao).post(ADD, dados)

    assert resposta.status_code == 200
    assert resposta.context["adminform"].form.errors["data_hora"]
    assert not Agendamento.objects.filter(data_hora__date=(AGORA + timedelta(days=3)).date())
