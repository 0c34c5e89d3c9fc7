"""The browsable API shows nothing the JSON answer would not (issue 9, item 3).

Every list and detail page of ``/api/`` is rendered as HTML (``Accept:
text/html`` and ``?format=api``) for each role, with two dentists who each
have their own patients, appointments and visit records.
"""

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import resolve
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient
from rest_framework.views import APIView

from apps.clinic import services
from apps.clinic.api.renderers import NavegavelSemFormularios
from apps.clinic.api.urls import router

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory

pytestmark = pytest.mark.django_db

AGORA = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
# Distinctive, ASCII names: found as they are in JSON and in escaped HTML.
PACIENTES_A = ("Benedita Quintanilha", "Olegario Pimentel")
PACIENTES_B = ("Zuleica Vasconcelos", "Anacleto Brandimarte")
TODOS_OS_NOMES = PACIENTES_A + PACIENTES_B
PAPEIS = ("gestor", "recepcao", "dentista_a", "anonimo")


@pytest.fixture
def relogio():
    with time_machine.travel(AGORA, tick=False):
        yield


def _usuario(nome, grupo):
    usuario = get_user_model().objects.create_user(nome)
    usuario.groups.add(Group.objects.get(name=grupo))
    return usuario


def _consultorio(nome_dentista, usuario, nomes_pacientes):
    """A dentist with, per patient, one closed appointment (with its record) and one open."""
    dentista = DentistaFactory(nome=nome_dentista, usuario=usuario)
    fechados, abertos = [], []
    for i, nome in enumerate(nomes_pacientes):
        paciente = PacienteFactory(nome=nome)
        passado = AgendamentoFactory(
            paciente=paciente, dentista=dentista, data_hora=AGORA - timedelta(hours=3 + i)
        )
        services.executar_finalizacao(passado, now=AGORA)
        fechados.append(passado)
        abertos.append(
            AgendamentoFactory(
                paciente=paciente, dentista=dentista, data_hora=AGORA + timedelta(hours=2 + i)
            )
        )
    return {"dentista": dentista, "fechados": fechados, "abertos": abertos}


@pytest.fixture
def clinica(relogio):
    usuarios = {
        "gestor": _usuario("gestora", "gestor"),
        "recepcao": _usuario("recepcionista", "recepcao"),
        "dentista_a": _usuario("dra-a", "dentista"),
        "anonimo": None,
    }
    a = _consultorio("Dra. Alfa", usuarios["dentista_a"], PACIENTES_A)
    b = _consultorio("Dr. Beta", _usuario("dr-b", "dentista"), PACIENTES_B)
    return {"usuarios": usuarios, "a": a, "b": b}


def _urls(clinica):
    """Every GET page of the API: the root, each list, each detail, agenda and history."""
    dia = {"data": AGORA.date().isoformat()}
    urls = [
        ("/api/", {}),
        ("/api/pacientes/", {}),
        ("/api/dentistas/", {}),
        ("/api/agendamentos/", {}),
        ("/api/atendimentos/", {}),
        ("/api/relatorios/agendamentos/", {}),
    ]
    for lado in (clinica["a"], clinica["b"]):
        dentista = lado["dentista"]
        urls += [
            (f"/api/dentistas/{dentista.pk}/", {}),
            (f"/api/dentistas/{dentista.pk}/agenda/", dia),
        ]
        for ag in lado["fechados"] + lado["abertos"]:
            urls += [
                (f"/api/pacientes/{ag.paciente_id}/", {}),
                (f"/api/agendamentos/{ag.pk}/", {}),
                (f"/api/agendamentos/{ag.pk}/historico/", {}),
            ]
        for ag in lado["fechados"]:
            urls.append((f"/api/atendimentos/{ag.atendimento.pk}/", {}))
    return urls


def _cliente(usuario):
    cliente = APIClient()
    if usuario is not None:
        cliente.force_authenticate(usuario)
    return cliente


def _pedir(cliente, url, params, **extra):
    consulta = urlencode(params)
    return cliente.get(f"{url}?{consulta}" if consulta else url, **extra)


@pytest.fixture
def navegavel_ligado(monkeypatch):
    """The renderers of API_NAVEGAVEL=1 (views read them at import, not per request)."""
    monkeypatch.setattr(APIView, "renderer_classes", [JSONRenderer, NavegavelSemFormularios])


@pytest.mark.parametrize("papel", PAPEIS)
def test_the_browsable_pages_show_no_patient_the_json_answer_would_not(
    clinica, navegavel_ligado, papel
):
    cliente = _cliente(clinica["usuarios"][papel])
    paginas = 0
    for url, params in _urls(clinica):
        json = _pedir(cliente, url, {**params, "format": "json"}).content.decode()
        como_html = [
            _pedir(cliente, url, params, HTTP_ACCEPT="text/html"),
            _pedir(cliente, url, {**params, "format": "api"}),
        ]
        for resposta in como_html:
            assert resposta["Content-Type"].startswith("text/html"), (url, resposta.status_code)
            html = resposta.content.decode()
            # Names only where the JSON for this user has them ...
            for nome in TODOS_OS_NOMES:
                if nome in html:
                    assert nome in json, (papel, url, nome)
            # ... and no drop-down of rows (filter form, HTML forms).
            assert "<select" not in html, (papel, url)
            paginas += 1
    assert paginas == 2 * len(_urls(clinica))


def test_dentist_a_json_never_names_dentist_b_patients(clinica):
    cliente = _cliente(clinica["usuarios"]["dentista_a"])
    for url, params in _urls(clinica):
        json = _pedir(cliente, url, {**params, "format": "json"}).content.decode()
        for nome in PACIENTES_B:
            assert nome not in json, url


def test_the_patient_list_page_does_show_the_patients_the_user_may_see(clinica, navegavel_ligado):
    # The check above is not vacuous: names do reach the HTML where the JSON has them.
    html = _pedir(
        _cliente(clinica["usuarios"]["dentista_a"]), "/api/pacientes/", {"format": "api"}
    ).content.decode()
    assert all(nome in html for nome in PACIENTES_A)
    assert not any(nome in html for nome in PACIENTES_B)


def test_the_pages_visited_cover_every_get_route_of_the_router(clinica):
    # A viewset or GET action added later must be added to _urls too.
    esperadas = {"api-root", "relatorio"}
    for _prefixo, viewset, basename in router.registry:
        esperadas |= {f"{basename}-list", f"{basename}-detail"}
        esperadas |= {
            f"{basename}-{acao.url_name}"
            for acao in viewset.get_extra_actions()
            if "get" in acao.mapping
        }
    visitadas = {resolve(url).url_name for url, _params in _urls(clinica)}
    assert esperadas <= visitadas, esperadas - visitadas
