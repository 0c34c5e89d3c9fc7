"""Answers with patients' data carry ``Cache-Control: no-store`` (issue 9, item 5)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.utils.cache import get_max_age
from rest_framework.test import APIClient

from core.middleware import SemCacheMiddleware

from .factories import PacienteFactory

pytestmark = pytest.mark.django_db


def _diretivas(resposta) -> set[str]:
    return {d.strip() for d in resposta.get("Cache-Control", "").split(",") if d.strip()}


@pytest.fixture
def gestor():
    usuario = get_user_model().objects.create_user("gestora", is_staff=True)
    usuario.groups.add(Group.objects.get(name="gestor"))
    return usuario


def test_every_api_answer_is_no_store_whatever_its_status(gestor):
    paciente = PacienteFactory(nome="Benedita Quintanilha")
    logado = APIClient()
    logado.force_authenticate(gestor)
    respostas = {
        "lista": logado.get("/api/pacientes/"),
        "detalhe": logado.get(f"/api/pacientes/{paciente.pk}/"),
        "criado": logado.post("/api/pacientes/", {"nome": "Nova"}, format="json"),
        "invalido": logado.post("/api/pacientes/", {"cpf": "123"}, format="json"),
        "sem_rota": logado.get("/api/nao-existe/"),
        "anonimo": APIClient().get(f"/api/pacientes/{paciente.pk}/"),
    }
    assert [r.status_code for r in respostas.values()] == [200, 200, 201, 400, 404, 401]
    for nome, resposta in respostas.items():
        assert "no-store" in _diretivas(resposta), nome
        assert "private" in _diretivas(resposta), nome


def test_admin_pages_keep_their_never_cache_headers(gestor):
    cliente = Client()
    assert "no-store" in _diretivas(cliente.get("/admin/login/"))
    cliente.force_login(gestor, backend="django.contrib.auth.backends.ModelBackend")
    resposta = cliente.get("/admin/clinic/paciente/")
    assert resposta.status_code == 200
    assert "no-store" in _diretivas(resposta)


def test_an_api_view_cannot_opt_into_caching_but_another_page_can():
    def com_cache(request):
        resposta = HttpResponse("x")
        resposta["Cache-Control"] = "public, max-age=600"
        return resposta

    middleware = SemCacheMiddleware(com_cache)
    api = middleware(RequestFactory().get("/api/pacientes/"))
    assert {"no-store", "private"} <= _diretivas(api)
    assert "public" not in _diretivas(api)
    assert get_max_age(api) == 0
    pagina = middleware(RequestFactory().get("/pagina-publica/"))
    assert _diretivas(pagina) == {"public", "max-age=600"}


def test_a_page_without_its_own_header_is_no_store_too(client):
    assert "no-store" in _diretivas(client.get("/healthz"))


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_keep_their_cache_headers():
    # WhiteNoise answers before the middleware; settings are read per Client.
    resposta = Client().get("/static/admin/css/base.css")
    assert resposta.status_code == 200
    assert "no-store" not in _diretivas(resposta)
