"""Who may call what: every role against every kind of endpoint (allowed vs forbidden)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from apps.clinic import services

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

PROIBIDO = {403, 404}


@pytest.fixture
def cenario():
    """A dentist user with one appointment closed automatically, and the ids involved."""
    usuario_dentista = get_user_model().objects.create_user("dentista-matriz")
    usuario_dentista.groups.add(Group.objects.get(name="dentista"))
    dentista = DentistaFactory(usuario=usuario_dentista)
    ag = AgendamentoFactory(dentista=dentista, data_hora=timezone.now() - timedelta(hours=3))
    atendimento = services.executar_finalizacao(ag, now=timezone.now())
    return {
        "dentista": dentista,
        "ag": ag,
        "atendimento": atendimento,
        "paciente": ag.paciente,
        "usuario_dentista": usuario_dentista,
    }


def _cliente(cenario, papel):
    if papel == "dentista":
        usuario = cenario["usuario_dentista"]
    else:
        usuario, _ = get_user_model().objects.get_or_create(username=f"u-{papel}")
        if papel != "nenhum":
            usuario.groups.add(Group.objects.get(name=papel))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    return cliente


# (method, url template, body, roles allowed)
MATRIZ = [
    ("get", "/api/pacientes/", None, {"recepcao", "dentista", "gestor"}),
    ("post", "/api/pacientes/", {"nome": "Nova"}, {"recepcao", "gestor"}),
    ("patch", "/api/pacientes/{paciente}/", {"nome": "Outro"}, {"recepcao", "gestor"}),
    ("get", "/api/dentistas/", None, {"recepcao", "dentista", "gestor"}),
    ("post", "/api/dentistas/", {"nome": "Dr. Novo"}, {"gestor"}),
    ("get", "/api/dentistas/{dentista}/agenda/", None, {"recepcao", "dentista", "gestor"}),
    ("get", "/api/agendamentos/", None, {"recepcao", "dentista", "gestor"}),
    ("get", "/api/agendamentos/{ag}/historico/", None, {"recepcao", "dentista", "gestor"}),
    ("post", "/api/agendamentos/{ag}/reabrir/", {}, {"dentista", "gestor"}),
    ("get", "/api/atendimentos/", None, {"dentista", "gestor"}),
    ("get", "/api/atendimentos/{atendimento}/", None, {"dentista", "gestor"}),
    ("patch", "/api/atendimentos/{atendimento}/", {"diagnostico": "x"}, {"dentista", "gestor"}),
    ("get", "/api/relatorios/agendamentos/", None, {"gestor"}),
]


@pytest.mark.parametrize("papel", ["recepcao", "dentista", "gestor", "nenhum"])
@pytest.mark.parametrize(("metodo", "url", "corpo", "permitidos"), MATRIZ)
def test_each_role_gets_exactly_what_it_may(cenario, papel, metodo, url, corpo, permitidos):
    cliente = _cliente(cenario, papel)
    ids = {k: v.pk for k, v in cenario.items()}
    resposta = getattr(cliente, metodo)(url.format(**ids), corpo, format="json")
    if papel in permitidos:
        assert resposta.status_code < 300, (resposta.status_code, resposta.data)
    else:
        assert resposta.status_code in PROIBIDO, (resposta.status_code, resposta.data)


def test_anonymous_requests_are_401_everywhere(cenario):
    for _metodo, url, _corpo, _permitidos in MATRIZ:
        ids = {k: v.pk for k, v in cenario.items()}
        assert APIClient().get(url.format(**ids)).status_code == 401, url


def test_booking_and_transitions_by_role(cenario):
    amanha = (timezone.now() + timedelta(days=1)).isoformat()
    corpo = {
        "paciente": PacienteFactory().pk,
        "dentista": cenario["dentista"].pk,
        "data_hora": amanha,
    }
    assert _cliente(cenario, "dentista").post("/api/agendamentos/", corpo).status_code == 403
    criado = _cliente(cenario, "recepcao").post("/api/agendamentos/", corpo, format="json")
    assert criado.status_code == 201
    pk = criado.data["id"]
    assert (
        _cliente(cenario, "dentista").post(f"/api/agendamentos/{pk}/confirmar/").status_code == 403
    )
    assert (
        _cliente(cenario, "recepcao").post(f"/api/agendamentos/{pk}/confirmar/").status_code == 200
    )
