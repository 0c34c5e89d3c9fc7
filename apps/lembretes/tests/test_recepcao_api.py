"""GET /api/confirmacoes/: the front desk's list of a day's appointments with their reminders."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from apps.clinic import services
from apps.clinic.tests.conftest import relogio_parado  # noqa: F401
from apps.clinic.tests.factories import DentistaFactory
from apps.clinic.tests.relogio import AGORA
from apps.lembretes.confirmacao import responder
from apps.lembretes.links import token_para

from .apoio_confirmacao import TELEFONE, agendamento, lembrete_enviado, regra

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

URL = "/api/confirmacoes/"
AMANHA_9H = AGORA + timedelta(hours=23)  # Thursday 09:00 São Paulo
AMANHA_23H30 = AGORA + timedelta(days=1, hours=13, minutes=30)  # Thursday 23:30 (Friday in UTC)


def _usuario(nome, grupo=None):
    usuario = get_user_model().objects.create_user(nome)
    if grupo:
        usuario.groups.add(Group.objects.get(name=grupo))
    return usuario


def _cliente(usuario):
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    return cliente


@pytest.fixture
def cenario():
    dr_a = DentistaFactory(nome="Dr. A", usuario=_usuario("dr-a", "dentista"))
    dr_b = DentistaFactory(nome="Dr. B", usuario=_usuario("dr-b", "dentista"))
    pendente = agendamento(AMANHA_9H, now=AGORA, dentista=dr_a)
    lembrete_enviado(pendente, enviado_em=AGORA - timedelta(hours=1))
    confirmado = agendamento(AMANHA_23H30, now=AGORA, dentista=dr_b, cpf="111.444.777-35")
    lembrete = lembrete_enviado(confirmado, enviado_em=AGORA - timedelta(hours=1))
    responder(token_para(lembrete), "confirmar", now=AGORA)
    hoje = agendamento(AGORA + timedelta(hours=2), now=AGORA, dentista=dr_a, cpf=None)
    depois = agendamento(AGORA + timedelta(days=2), now=AGORA, dentista=dr_a, cpf=None)
    cancelado = agendamento(AMANHA_9H + timedelta(hours=1), now=AGORA, dentista=dr_b, cpf=None)
    services.agendamento_cancelar(cancelado, usuario=None, now=AGORA, motivo="x")
    return {
        "pendente": pendente,
        "confirmado": confirmado,
        "hoje": hoje,
        "depois": depois,
        "dr_a": dr_a,
        "dr_b": dr_b,
    }


def _ids(resposta):
    assert resposta.status_code == 200, resposta.data
    return [linha["id"] for linha in resposta.data["results"]]


def test_by_default_it_lists_tomorrows_unconfirmed_appointments(cenario):
    resposta = _cliente(_usuario("rec", "recepcao")).get(URL)

    assert _ids(resposta) == [cenario["pendente"].pk]
    linha = resposta.data["results"][0]
    assert linha["paciente"] == {
        "id": cenario["pendente"].paciente_id,
        "nome": "Mariana Albuquerque Teixeira",
        "telefone": TELEFONE,
    }
    assert linha["dentista"] == {"id": cenario["dr_a"].pk, "nome": "Dr. A"}
    (lembrete,) = linha["lembretes"]
    assert lembrete["regra"] == regra().nome
    assert (lembrete["canal"], lembrete["situacao"], lembrete["resposta"]) == (
        "email",
        "enviado",
        "",
    )
    assert lembrete["atual"] is True


def test_confirmacao_filters_confirmed_or_all_open_of_the_local_day(cenario):
    cliente = _cliente(_usuario("gestor", "gestor"))

    # Thursday 23:30 in São Paulo is Friday in UTC: still Thursday's list.
    confirmados = cliente.get(URL, {"confirmacao": "confirmado", "dia": "2026-12-03"})
    assert _ids(confirmados) == [cenario["confirmado"].pk]
    assert confirmados.data["results"][0]["lembretes"][0]["resposta"] == "confirmado"
    todas = cliente.get(URL, {"confirmacao": "todas", "dia": "2026-12-03"})
    assert _ids(todas) == [cenario["pendente"].pk, cenario["confirmado"].pk]
    assert _ids(cliente.get(URL, {"dia": "2026-12-02"})) == [cenario["hoje"].pk]


def test_a_dentist_sees_only_their_own(cenario):
    cliente = _cliente(cenario["dr_b"].usuario)
    assert _ids(cliente.get(URL, {"confirmacao": "todas"})) == [cenario["confirmado"].pk]


def test_no_role_is_403_and_anonymous_is_401(cenario):
    assert _cliente(_usuario("ninguem")).get(URL).status_code == 403
    assert APIClient().get(URL).status_code == 401


@pytest.mark.parametrize(
    ("parametros", "campo", "mensagem"),
    [
        ({"dia": "03/12/2026"}, "dia", "Use o formato AAAA-MM-DD."),
        ({"dia": "9999-01-01"}, "dia", "Use uma data entre os anos de 1900 e 2100."),
        ({"confirmacao": "sim"}, "confirmacao", "Use pendente, confirmado ou todas."),
    ],
)
def test_bad_parameters_are_400_with_a_ptbr_field_message(cenario, parametros, campo, mensagem):
    resposta = _cliente(_usuario("rec", "recepcao")).get(URL, parametros)
    assert resposta.status_code == 400
    assert resposta.json()[campo] == [mensagem]


def test_the_number_of_queries_does_not_grow_with_the_day(cenario, django_assert_num_queries):
    cliente = _cliente(_usuario("rec", "recepcao"))
    cliente.get(URL, {"confirmacao": "todas"})  # the role is read once per user object

    def consultas():
        with django_assert_num_queries(3) as contexto:  # count, page, reminders
            assert cliente.get(URL, {"confirmacao": "todas"}).status_code == 200
        return len(contexto.captured_queries)

    antes = consultas()
    for i in range(5):
        ag = agendamento(AMANHA_9H + timedelta(hours=1 + i), now=AGORA, cpf=None)
        lembrete_enviado(ag, enviado_em=AGORA)
        lembrete_enviado(ag, enviado_em=AGORA, regra_=regra("2 horas antes", 120))
    assert consultas() == antes


def test_the_endpoint_is_in_the_openapi_schema():
    resposta = _cliente(_usuario("gestor", "gestor")).get("/api/schema/", {"format": "json"})
    operacao = resposta.json()["paths"]["/api/confirmacoes/"]["get"]
    assert {p["name"] for p in operacao["parameters"]} >= {"dia", "confirmacao"}
