"""REST API: patients and dentists (first slice of the API issue)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from apps.clinic.models import Paciente

from .factories import PacienteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

CPF_VALIDO = "52998224725"  # check digits valid (Receita Federal algorithm)


@pytest.fixture
def api():
    cliente = APIClient()
    usuario = get_user_model().objects.create_user("recepcao1", password="s3nha-l0nga")
    usuario.groups.add(Group.objects.get(name="recepcao"))
    cliente.force_authenticate(usuario)
    return cliente


def test_everything_requires_login():
    resposta = APIClient().get("/api/pacientes/")
    assert resposta.status_code == 401


def test_a_patient_is_created_and_found_by_name_or_cpf(api):
    criado = api.post("/api/pacientes/", {"nome": "Ana Souza", "cpf": CPF_VALIDO}, format="json")
    assert criado.status_code == 201, criado.data
    PacienteFactory(nome="Bruno Lima")
    assert [p["nome"] for p in api.get("/api/pacientes/?search=souza").data["results"]] == [
        "Ana Souza"
    ]
    assert api.get(f"/api/pacientes/?search={CPF_VALIDO}").data["count"] == 1


def test_a_cpf_with_wrong_check_digits_is_refused_in_pt_br(api):
    resposta = api.post("/api/pacientes/", {"nome": "Caio", "cpf": "52998224726"}, format="json")
    assert resposta.status_code == 400
    assert "cpf" in resposta.data
    assert str(resposta.data["cpf"][0]).startswith("CPF inválido")
    assert not Paciente.objects.exists()


def test_unknown_fields_are_rejected_not_ignored(api):
    resposta = api.post("/api/pacientes/", {"nome": "Dora", "apelido": "D"}, format="json")
    assert resposta.status_code == 400
    assert resposta.data == {"apelido": ["Campo desconhecido."]}


def test_a_dentist_cannot_delete_a_patient():
    usuario = get_user_model().objects.create_user("dentista1")
    usuario.groups.add(Group.objects.get(name="dentista"))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    paciente = PacienteFactory()
    assert cliente.delete(f"/api/pacientes/{paciente.pk}/").status_code == 403
    assert Paciente.objects.filter(pk=paciente.pk).exists()


def test_the_openapi_schema_and_swagger_ui_are_served_to_logged_in_users(api):
    assert api.get("/api/schema/").status_code == 200
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI's files come from the project (drf-spectacular-sidecar), not a CDN.
    assert b"cdn.jsdelivr" not in docs.content and b"/static/" in docs.content
    assert APIClient().get("/api/schema/").status_code == 401
