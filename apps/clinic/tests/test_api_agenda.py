"""REST API: the schedule, transitions, visit records, roles and bad input."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory
from .relogio import AGORA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


def _cliente(nome: str, grupo: str | None):
    usuario = get_user_model().objects.create_user(nome, password="s3nha-l0nga-demais")
    if grupo:
        usuario.groups.add(Group.objects.get(name=grupo))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    cliente.usuario = usuario
    return cliente


@pytest.fixture
def recepcao():
    return _cliente("recepcionista", "recepcao")


@pytest.fixture
def gestor():
    return _cliente("gestora", "gestor")


@pytest.fixture
def dentista():
    cliente = _cliente("dra.ana", "dentista")
    cliente.dentista = DentistaFactory(usuario=cliente.usuario)
    return cliente


@pytest.fixture
def outro_dentista():
    cliente = _cliente("dr.bruno", "dentista")
    cliente.dentista = DentistaFactory(usuario=cliente.usuario)
    return cliente


def _amanha_as(hora: int, minuto: int = 0):
    """The day after AGORA at ``hora:minuto`` in São Paulo (never the real tomorrow)."""
    return (AGORA + timedelta(days=1)).replace(hour=hora, minute=minuto)


def _reservar(cliente, dentista, inicio, duracao=30, **extra):
    return cliente.post(
        "/api/agendamentos/",
        {
            "paciente": PacienteFactory().pk,
            "dentista": dentista.pk,
            "data_hora": inicio.isoformat(),
            "duracao_minutos": duracao,
            **extra,
        },
        format="json",
    )


def _passado(dentista, horas=3, **kwargs):
    ag = AgendamentoFactory(
        dentista=dentista, data_hora=timezone.now() - timedelta(hours=horas), **kwargs
    )
    ag.refresh_from_db()
    return ag


# --- the receptionist's day ---------------------------------------------------


def test_a_receptionist_books_confirms_reschedules_and_cancels(recepcao, dentista):
    criado = _reservar(recepcao, dentista.dentista, _amanha_as(9))
    assert criado.status_code == 201, criado.data
    pk = criado.data["id"]
    assert criado.data["status"] == "agendado"

    assert recepcao.post(f"/api/agendamentos/{pk}/confirmar/").data["status"] == "confirmado"

    novo_inicio = _amanha_as(15)
    reagendado = recepcao.patch(
        f"/api/agendamentos/{pk}/",
        {"data_hora": novo_inicio.isoformat(), "duracao_minutos": 60},
        format="json",
    )
    assert reagendado.status_code == 200, reagendado.data
    assert reagendado.data["duracao_minutos"] == 60

    cancelado = recepcao.post(f"/api/agendamentos/{pk}/cancelar/", {"motivo": "viagem"})
    assert cancelado.status_code == 200
    assert cancelado.data["status"] == "cancelado"
    assert cancelado.data["cancelamento_tardio"] is False  # more than 24 h ahead
    historico = recepcao.get(f"/api/agendamentos/{pk}/historico/").data
    assert [(h["status_anterior"], h["status_novo"]) for h in historico] == [
        ("", "agendado"),
        ("agendado", "confirmado"),
        ("confirmado", "cancelado"),
    ]
    assert historico[-1]["motivo"] == "viagem"


def test_a_cancellation_less_than_24_hours_ahead_is_recorded_as_late(recepcao):
    ag = AgendamentoFactory(data_hora=timezone.now() + timedelta(hours=5))
    resposta = recepcao.post(f"/api/agendamentos/{ag.pk}/cancelar/", {"motivo": "doente"})
    assert resposta.data["cancelamento_tardio"] is True
    assert ag.historico.get(status_novo="cancelado").motivo == "doente [cancelamento tardio]"


def test_cancelling_needs_a_reason(recepcao):
    ag = AgendamentoFactory()
    resposta = recepcao.post(f"/api/agendamentos/{ag.pk}/cancelar/", {})
    assert resposta.status_code == 400
    assert "motivo" in resposta.data


@pytest.mark.parametrize(
    ("acao", "status_inicial", "mensagem"),
    [
        ("confirmar", "cancelado", "Só um agendamento na situação “agendado” pode ser confirmado"),
        ("cancelar", "faltou", "Só um agendamento em aberto pode ser cancelado"),
        ("confirmar", "confirmado", "a situação atual é “confirmado”"),
    ],
)
def test_invalid_transitions_answer_409_in_pt_br(gestor, acao, status_inicial, mensagem):
    ag = AgendamentoFactory(status=status_inicial, active=status_inicial == "confirmado")
    corpo = {"motivo": "x"} if acao == "cancelar" else {}
    resposta = gestor.post(f"/api/agendamentos/{ag.pk}/{acao}/", corpo)
    assert resposta.status_code == 409
    assert mensagem in resposta.data["detail"]
    assert resposta.data["code"] == "transicao_invalida"


def test_a_future_appointment_cannot_be_marked_as_a_no_show(recepcao):
    ag = AgendamentoFactory(data_hora=timezone.now() + timedelta(hours=2))
    resposta = recepcao.post(f"/api/agendamentos/{ag.pk}/marcar-falta/")
    assert resposta.status_code == 409
    assert "depois do início" in resposta.data["detail"]
    assert Agendamento.objects.get(pk=ag.pk).status == "agendado"


def test_a_started_appointment_is_marked_as_a_no_show(recepcao):
    ag = AgendamentoFactory(data_hora=timezone.now() - timedelta(minutes=5))
    resposta = recepcao.post(f"/api/agendamentos/{ag.pk}/marcar-falta/")
    assert (resposta.status_code, resposta.data["status"], resposta.data["active"]) == (
        200,
        "faltou",
        False,
    )


def test_a_closed_appointment_cannot_be_rescheduled(recepcao):
    ag = AgendamentoFactory(status="cancelado", active=False)
    resposta = recepcao.patch(
        f"/api/agendamentos/{ag.pk}/", {"data_hora": _amanha_as(10).isoformat()}, format="json"
    )
    assert resposta.status_code == 409


# --- validation -----------------------------------------------------------------


@pytest.mark.parametrize("duracao", [4, 481, "quinze", None])
def test_the_duration_must_be_5_to_480_minutes(recepcao, dentista, duracao):
    resposta = _reservar(recepcao, dentista.dentista, _amanha_as(9), duracao=duracao)
    assert resposta.status_code == 400
    assert "duracao_minutos" in resposta.data


def test_booking_in_the_past_needs_the_back_dating_permission(recepcao, gestor, dentista):
    ontem = timezone.now() - timedelta(days=1)
    resposta = _reservar(recepcao, dentista.dentista, ontem)
    assert resposta.status_code == 400
    assert "passado" in resposta.data["data_hora"][0]
    # The manager's group has clinic.agendar_retroativo.
    assert _reservar(gestor, dentista.dentista, ontem).status_code == 201


def test_a_naive_data_hora_is_read_in_the_clinics_time_zone(recepcao, dentista):
    dia = (AGORA.date() + timedelta(days=2)).isoformat()
    resposta = recepcao.post(
        "/api/agendamentos/",
        {
            "paciente": PacienteFactory().pk,
            "dentista": dentista.dentista.pk,
            "data_hora": f"{dia}T10:00:00",
        },
        format="json",
    )
    assert resposta.status_code == 201, resposta.data
    assert resposta.data["data_hora"].endswith("T10:00:00-03:00")


@pytest.mark.parametrize(
    "corpo",
    [
        {"data_hora": "amanhã cedo"},
        {"paciente": "abc"},
        {"paciente": 999999},
        {"ajuda": "campo inventado"},
    ],
)
def test_bad_booking_input_is_a_400_naming_the_field(recepcao, dentista, corpo):
    base = {
        "paciente": PacienteFactory().pk,
        "dentista": dentista.dentista.pk,
        "data_hora": _amanha_as(9).isoformat(),
    }
    resposta = recepcao.post("/api/agendamentos/", {**base, **corpo}, format="json")
    assert resposta.status_code == 400
    assert set(corpo) <= set(resposta.data)


def test_a_phone_number_must_look_brazilian(recepcao):
    ruim = recepcao.post("/api/pacientes/", {"nome": "Eva", "telefone": "12345"}, format="json")
    assert ruim.status_code == 400 and "Telefone inválido" in ruim.data["telefone"][0]
    bom = recepcao.post(
        "/api/pacientes/", {"nome": "Eva", "telefone": "(27) 99876-5432"}, format="json"
    )
    assert bom.status_code == 201


# --- double booking ---------------------------------------------------------------


def test_a_dentist_cannot_be_double_booked(recepcao, dentista):
    assert _reservar(recepcao, dentista.dentista, _amanha_as(9), 60).status_code == 201
    sobreposto = _reservar(recepcao, dentista.dentista, _amanha_as(9, 30))
    assert sobreposto.status_code == 400
    assert "O dentista já tem um agendamento de" in sobreposto.data["data_hora"][0]
    # Back to back is fine, and so is another dentist at the same time.
    assert _reservar(recepcao, dentista.dentista, _amanha_as(10)).status_code == 201
    assert _reservar(recepcao, DentistaFactory(), _amanha_as(9, 30)).status_code == 201


def test_a_cancelled_appointment_frees_its_slot(recepcao, dentista):
    pk = _reservar(recepcao, dentista.dentista, _amanha_as(9)).data["id"]
    recepcao.post(f"/api/agendamentos/{pk}/cancelar/", {"motivo": "remarcar"})
    assert _reservar(recepcao, dentista.dentista, _amanha_as(9)).status_code == 201


def test_rescheduling_onto_another_appointment_is_refused(recepcao, dentista):
    _reservar(recepcao, dentista.dentista, _amanha_as(9))
    pk = _reservar(recepcao, dentista.dentista, _amanha_as(11)).data["id"]
    resposta = recepcao.patch(
        f"/api/agendamentos/{pk}/", {"data_hora": _amanha_as(9, 15).isoformat()}, format="json"
    )
    assert resposta.status_code == 400


# --- the dentist: own agenda, clinical records ---------------------------------------


def test_a_dentist_closes_an_appointment_with_a_diagnosis(dentista):
    ag = _passado(dentista.dentista, horas=1)
    resposta = dentista.post(
        f"/api/agendamentos/{ag.pk}/finalizar/",
        {"diagnostico": "Cárie no 36", "tratamento_realizado": "Restauração em resina"},
    )
    assert resposta.status_code == 201, resposta.data
    assert resposta.data["origem"] == "manual"
    assert Agendamento.objects.get(pk=ag.pk).status == "concluido"


def test_a_dentist_reverts_an_automatic_close_and_history_keeps_both(dentista):
    ag = _passado(dentista.dentista, status="confirmado")
    services.executar_finalizacao(ag, now=timezone.now(), task_id="t-9")
    resposta = dentista.post(f"/api/agendamentos/{ag.pk}/reabrir/", {"motivo": "paciente faltou"})
    assert resposta.status_code == 200, resposta.data
    assert (resposta.data["status"], resposta.data["active"]) == ("confirmado", True)
    assert resposta.data["fechamento_automatico"] is False
    assert not Atendimento.objects.filter(agendamento=ag).exists()
    # The sweep leaves it to the dentist now.
    assert services.finalizar_agendamentos_vencidos(now=timezone.now()) == 0
    historico = [(h.status_anterior, h.status_novo) for h in ag.historico.order_by("id")]
    assert historico[-2:] == [("confirmado", "concluido"), ("concluido", "confirmado")]
    assert dentista.post(f"/api/agendamentos/{ag.pk}/marcar-falta/").data["status"] == "faltou"


def test_a_manual_close_cannot_be_reverted(dentista):
    ag = _passado(dentista.dentista)
    services.agendamento_finalizar(
        ag, usuario=None, now=timezone.now(), diagnostico="d", tratamento_realizado="t"
    )
    assert dentista.post(f"/api/agendamentos/{ag.pk}/reabrir/").status_code == 409


def test_editing_an_automatic_record_marks_it_reviewed(dentista):
    ag = _passado(dentista.dentista)
    atendimento = services.executar_finalizacao(ag, now=timezone.now())
    resposta = dentista.patch(
        f"/api/atendimentos/{atendimento.pk}/", {"diagnostico": "Gengivite leve"}, format="json"
    )
    assert resposta.status_code == 200, resposta.data
    assert resposta.data["revisado_por"] == dentista.usuario.pk
    assert resposta.data["revisado_em"] is not None


def test_a_dentist_gets_404_for_another_dentists_records(dentista, outro_dentista):
    alheio = _passado(outro_dentista.dentista)
    atendimento = services.executar_finalizacao(alheio, now=timezone.now())
    assert dentista.get(f"/api/atendimentos/{atendimento.pk}/").status_code == 404
    assert dentista.get(f"/api/agendamentos/{alheio.pk}/").status_code == 404
    assert dentista.post(f"/api/agendamentos/{alheio.pk}/reabrir/").status_code == 404
    assert dentista.get(f"/api/dentistas/{outro_dentista.dentista.pk}/agenda/").status_code == 404
    assert dentista.get("/api/atendimentos/").data["count"] == 0
    assert outro_dentista.get("/api/atendimentos/").data["count"] == 1


def test_a_dentist_sees_only_their_own_agenda(dentista, outro_dentista):
    meu = AgendamentoFactory(dentista=dentista.dentista)
    AgendamentoFactory(dentista=outro_dentista.dentista)
    assert [a["id"] for a in dentista.get("/api/agendamentos/").data["results"]] == [meu.pk]
    dia = timezone.localtime(meu.data_hora).date().isoformat()
    agenda = dentista.get(f"/api/dentistas/{dentista.dentista.pk}/agenda/?data={dia}").data
    assert [a["id"] for a in agenda] == [meu.pk]


# --- the receptionist never sees clinical records --------------------------------------


def test_the_reception_cannot_read_visit_records(recepcao, dentista):
    ag = _passado(dentista.dentista)
    atendimento = services.executar_finalizacao(ag, now=timezone.now())
    assert recepcao.get("/api/atendimentos/").status_code == 403
    assert recepcao.get(f"/api/atendimentos/{atendimento.pk}/").status_code == 403
    detalhe = recepcao.get(f"/api/agendamentos/{ag.pk}/").data
    assert "diagnostico" not in detalhe and "tratamento_realizado" not in detalhe
    resposta = recepcao.post(
        f"/api/agendamentos/{ag.pk}/finalizar/", {"diagnostico": "x", "tratamento_realizado": "y"}
    )
    assert resposta.status_code == 403


def test_a_user_without_a_role_is_refused_everywhere():
    sem_papel = _cliente("visitante", None)
    for url in (
        "/api/pacientes/",
        "/api/agendamentos/",
        "/api/dentistas/",
        "/api/atendimentos/",
        "/api/relatorios/agendamentos/",
    ):
        assert sem_papel.get(url).status_code == 403, url


def test_only_the_manager_sees_reports(gestor, recepcao, dentista):
    _passado(dentista.dentista)
    assert recepcao.get("/api/relatorios/agendamentos/").status_code == 403
    assert dentista.get("/api/relatorios/agendamentos/").status_code == 403
    resposta = gestor.get("/api/relatorios/agendamentos/")
    assert resposta.status_code == 200
    assert sum(linha["total"] for linha in resposta.data["por_status"]) >= 1


# --- lists -------------------------------------------------------------------------


def test_the_list_filters_by_day_in_the_clinics_time_zone(recepcao, dentista):
    # 23:30 in São Paulo is already the next day in UTC.
    tarde = _amanha_as(23, 30)
    pk = _reservar(recepcao, dentista.dentista, tarde).data["id"]
    dia = tarde.date().isoformat()
    resposta = recepcao.get(f"/api/agendamentos/?data_inicio={dia}&data_fim={dia}")
    assert [a["id"] for a in resposta.data["results"]] == [pk]
    seguinte = (tarde.date() + timedelta(days=1)).isoformat()
    assert recepcao.get(f"/api/agendamentos/?data_inicio={seguinte}").data["count"] == 0


def test_the_list_filters_by_status_dentist_and_active(recepcao, dentista):
    AgendamentoFactory(dentista=dentista.dentista)
    AgendamentoFactory(status="cancelado", active=False)
    assert recepcao.get("/api/agendamentos/?active=true").data["count"] == 1
    assert recepcao.get("/api/agendamentos/?status=cancelado").data["count"] == 1
    assert recepcao.get(f"/api/agendamentos/?dentista={dentista.dentista.pk}").data["count"] == 1


def test_a_patient_with_appointments_cannot_be_deleted(recepcao):
    ag = AgendamentoFactory()
    resposta = recepcao.delete(f"/api/pacientes/{ag.paciente_id}/")
    assert resposta.status_code == 409
    sem_agenda = PacienteFactory()
    assert recepcao.delete(f"/api/pacientes/{sem_agenda.pk}/").status_code == 204


@pytest.mark.parametrize("url", ["/api/agendamentos/", "/api/pacientes/", "/api/atendimentos/"])
def test_a_list_costs_the_same_queries_for_5_rows_as_for_50(gestor, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def consultas() -> int:
        # A real request gets a fresh user object; force_authenticate reuses one.
        gestor.usuario.__dict__.pop("_papel_clinica", None)
        with CaptureQueriesContext(connection) as capturadas:
            assert gestor.get(url).status_code == 200
        return len(capturadas)

    for i in range(5):
        ag = _passado(DentistaFactory(), horas=3 + i)
        services.executar_finalizacao(ag, now=timezone.now())
    poucas = consultas()
    for i in range(50):
        ag = _passado(DentistaFactory(), horas=60 + i)
        services.executar_finalizacao(ag, now=timezone.now())
    assert consultas() == poucas


# --- found by trying to break the API -------------------------------------------


def test_an_edit_of_a_record_reopened_meanwhile_is_a_409_not_a_resurrection(dentista):
    ag = _passado(dentista.dentista)
    atendimento = services.executar_finalizacao(ag, now=timezone.now())
    assert dentista.post(f"/api/agendamentos/{ag.pk}/reabrir/").status_code == 200
    # The edit arrives with the record it had loaded before the reopening.
    with pytest.raises(services.TransicaoInvalida):
        services.atendimento_atualizar(
            atendimento, usuario=dentista.usuario, now=timezone.now(), diagnostico="revisado"
        )
    assert not Atendimento.objects.filter(agendamento=ag).exists()
    assert (
        dentista.post(
            f"/api/agendamentos/{ag.pk}/finalizar/",
            {"diagnostico": "d", "tratamento_realizado": "t"},
        ).status_code
        == 201
    )


def test_an_empty_edit_does_not_mark_an_automatic_record_reviewed(dentista):
    ag = _passado(dentista.dentista)
    atendimento = services.executar_finalizacao(ag, now=timezone.now())
    assert (
        dentista.put(f"/api/atendimentos/{atendimento.pk}/", {}, format="json").status_code == 200
    )
    assert dentista.post(f"/api/agendamentos/{ag.pk}/reabrir/").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/agendamentos/?data_fim=9999-12-31",
        "/api/agendamentos/?data_inicio=0001-01-01",
        "/api/relatorios/agendamentos/?fim=9999-12-31",
    ],
)
def test_dates_at_the_edge_of_the_calendar_are_a_400_not_a_500(gestor, url):
    resposta = gestor.get(url)
    assert resposta.status_code == 400
    assert "1900 e 2100" in str(resposta.data)


def test_an_agenda_day_at_the_edge_of_the_calendar_is_a_400(gestor, dentista):
    resposta = gestor.get(f"/api/dentistas/{dentista.dentista.pk}/agenda/?data=9999-12-31")
    assert resposta.status_code == 400 and "data" in resposta.data


def test_a_blank_cpf_means_not_informed_for_any_number_of_patients(recepcao):
    for nome in ("Ana", "Bia"):
        resposta = recepcao.post("/api/pacientes/", {"nome": nome, "cpf": ""}, format="json")
        assert resposta.status_code == 201, resposta.data
        assert resposta.data["cpf"] is None


def test_a_uniqueness_race_is_a_409_and_the_cpf_is_not_logged(recepcao, caplog):
    from unittest import mock

    from rest_framework.validators import UniqueValidator

    PacienteFactory(cpf="52998224725")
    # As if two identical requests both passed the uniqueness check.
    with mock.patch.object(UniqueValidator, "__call__", return_value=None):
        resposta = recepcao.post(
            "/api/pacientes/", {"nome": "Dup", "cpf": "52998224725"}, format="json"
        )
    assert resposta.status_code == 409
    assert "52998224725" not in caplog.text and "52998224725" not in str(resposta.data)


@pytest.mark.parametrize(
    ("corpo", "campo"),
    [
        ({"nome": 123}, "nome"),
        ({"nome": "Caio", "id": 7}, "id"),
        ({"nome": "Caio", "data_nascimento": "2990-01-01"}, "data_nascimento"),
    ],
)
def test_wrong_types_read_only_fields_and_future_births_are_refused(recepcao, corpo, campo):
    resposta = recepcao.post("/api/pacientes/", corpo, format="json")
    assert resposta.status_code == 400
    assert campo in resposta.data


def test_a_number_sent_as_text_is_refused_in_json(recepcao, dentista):
    resposta = _reservar(recepcao, dentista.dentista, _amanha_as(9), duracao="30")
    assert resposta.status_code == 400
    assert "Tipo inválido" in resposta.data["duracao_minutos"][0]


def test_the_end_is_answered_in_the_clinics_offset_like_the_start(recepcao, dentista):
    resposta = _reservar(recepcao, dentista.dentista, _amanha_as(9))
    assert resposta.data["fim"].endswith("T09:30:00-03:00")


def test_an_appointment_in_progress_can_be_lengthened(recepcao):
    ag = AgendamentoFactory(data_hora=timezone.now() - timedelta(minutes=10))
    resposta = recepcao.patch(f"/api/agendamentos/{ag.pk}/", {"duracao_minutos": 90}, format="json")
    assert resposta.status_code == 200, resposta.data


def test_an_inactive_dentist_cannot_be_booked(recepcao):
    resposta = _reservar(recepcao, DentistaFactory(ativo=False), _amanha_as(9))
    assert resposta.status_code == 400 and "dentista" in resposta.data


def test_not_found_and_bad_json_answer_in_pt_br(recepcao):
    assert recepcao.get("/api/agendamentos/999999/").data["detail"] == "Não encontrado."
    resposta = recepcao.generic(
        "POST", "/api/pacientes/", "{nome: ", content_type="application/json"
    )
    assert resposta.status_code == 400
    assert "JSON" in resposta.data["detail"]


def test_a_method_the_endpoint_does_not_have_is_405(recepcao):
    ag = AgendamentoFactory()
    assert recepcao.delete(f"/api/agendamentos/{ag.pk}/").status_code == 405


def test_a_nul_character_in_a_search_is_a_400_object(recepcao):
    resposta = recepcao.get("/api/pacientes/?search=a%00b")
    assert resposta.status_code == 400
    assert isinstance(resposta.data, dict) and "non_field_errors" in resposta.data
