"""Appointment payloads carry the patient's and dentist's names, no query per row (issue 12.5)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.clinic.api.serializers import AgendamentoSerializer
from apps.clinic.models import Agendamento

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory
from .relogio import AGORA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


def _cliente(nome: str, grupo: str) -> APIClient:
    usuario = get_user_model().objects.create_user(nome)
    usuario.groups.add(Group.objects.get(name=grupo))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    cliente.usuario = usuario
    return cliente


def _agendar(n: int, dentista=None, *, primeiro: int = 0) -> list[Agendamento]:
    """``n`` back-to-back appointments of ``dentista`` tomorrow, from slot ``primeiro``."""
    dentista = dentista or DentistaFactory()
    return [
        AgendamentoFactory(
            paciente=PacienteFactory(nome=f"Paciente Nomeado {i}"),
            dentista=dentista,
            data_hora=AGORA + timedelta(days=1, minutes=30 * i),
        )
        for i in range(primeiro, primeiro + n)
    ]


def _consultas_da_lista(cliente) -> tuple[int, list[dict]]:
    with CaptureQueriesContext(connection) as consultas:
        resposta = cliente.get("/api/agendamentos/")
    assert resposta.status_code == 200
    return len(consultas), resposta.json()["results"]


def test_the_list_names_patient_and_dentist_in_the_same_number_of_queries_for_1_or_20():
    recepcao = _cliente("recepcao-nomes", "recepcao")
    dentista = DentistaFactory(nome="Dra. Nomeada")
    # A first request fills the user's per-object caches (groups), as for any later one.
    _consultas_da_lista(recepcao)
    _agendar(1, dentista)
    com_um, linhas_um = _consultas_da_lista(recepcao)
    _agendar(19, dentista, primeiro=1)
    com_vinte, linhas_vinte = _consultas_da_lista(recepcao)

    assert len(linhas_um) == 1 and len(linhas_vinte) == 20
    assert com_um == com_vinte, (com_um, com_vinte)
    assert linhas_um[0]["paciente_nome"] == "Paciente Nomeado 0"
    assert {linha["dentista_nome"] for linha in linhas_vinte} == {"Dra. Nomeada"}
    por_id = {a.pk: a.paciente.nome for a in Agendamento.objects.select_related("paciente")}
    assert all(por_id[linha["id"]] == linha["paciente_nome"] for linha in linhas_vinte)


def test_a_dentist_still_sees_only_their_own_appointments_with_names():
    cliente = _cliente("dra.propria", "dentista")
    propria = DentistaFactory(nome="Dra. Própria", usuario=cliente.usuario)
    meus = _agendar(2, propria)
    _agendar(3)  # another dentist's

    _n, linhas = _consultas_da_lista(cliente)

    assert sorted(linha["id"] for linha in linhas) == sorted(a.pk for a in meus)
    assert {linha["dentista_nome"] for linha in linhas} == {"Dra. Própria"}
    assert {linha["paciente_nome"] for linha in linhas} == {a.paciente.nome for a in meus}


def test_detail_agenda_booking_and_transitions_answer_with_the_names():
    recepcao = _cliente("recepcao-nomes-2", "recepcao")
    dentista = DentistaFactory(nome="Dr. Agenda")
    paciente = PacienteFactory(nome="Paciente Da Reserva")
    nomes = {"paciente_nome": "Paciente Da Reserva", "dentista_nome": "Dr. Agenda"}

    reserva = recepcao.post(
        "/api/agendamentos/",
        {"paciente": paciente.pk, "dentista": dentista.pk, "data_hora": "2026-12-03T09:00"},
        format="json",
    )
    assert reserva.status_code == 201, reserva.content
    pk = reserva.json()["id"]
    respostas = [
        reserva,
        recepcao.get(f"/api/agendamentos/{pk}/"),
        recepcao.patch(f"/api/agendamentos/{pk}/", {"duracao_minutos": 45}, format="json"),
        recepcao.post(f"/api/agendamentos/{pk}/confirmar/"),
    ]
    agenda = recepcao.get(f"/api/dentistas/{dentista.pk}/agenda/", {"data": "2026-12-03"})

    for resposta in respostas:
        assert resposta.status_code in (200, 201), resposta.content
        assert {k: resposta.json()[k] for k in nomes} == nomes
    assert [{k: linha[k] for k in nomes} for linha in agenda.json()] == [nomes]


def test_the_names_are_read_only():
    recepcao = _cliente("recepcao-nomes-3", "recepcao")
    ag = _agendar(1)[0]

    resposta = recepcao.patch(
        f"/api/agendamentos/{ag.pk}/", {"paciente_nome": "Outro Nome"}, format="json"
    )

    assert resposta.status_code == 400
    assert resposta.json() == {"paciente_nome": ["Campo somente leitura: não pode ser enviado."]}


def test_an_instance_not_from_the_selector_still_gets_the_right_names():
    ag = _agendar(1, DentistaFactory(nome="Dr. Direto"))[0]
    simples = Agendamento.objects.get(pk=ag.pk)

    dados = AgendamentoSerializer(simples).data

    assert (dados["paciente_nome"], dados["dentista_nome"]) == ("Paciente Nomeado 0", "Dr. Direto")


def test_the_schema_shows_the_names_as_read_only_nullable_text():
    gestor = _cliente("gestor-schema-nomes", "gestor")

    esquema = gestor.get("/api/schema/", {"format": "json"}).json()

    propriedades = esquema["components"]["schemas"]["Agendamento"]["properties"]
    for campo in ("paciente_nome", "dentista_nome"):
        assert propriedades[campo]["type"] == "string"
        assert propriedades[campo]["readOnly"] is True
        assert propriedades[campo]["nullable"] is True
