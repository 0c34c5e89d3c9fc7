"""The demo's role users (manage.py demo) can use the admin, each within their role."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from apps.clinic.models import Agendamento

from .apoio import AGORA

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the credentials file goes there
    call_command("demo")
    return {u.username: u for u in get_user_model().objects.all()}


def _entrar(usuario) -> Client:
    navegador = Client()
    navegador.force_login(usuario)
    return navegador


def test_the_demo_role_users_reach_the_admin_pages_of_their_role(demo):
    # (user, page, expected status)
    casos = [
        ("recepcao", "/admin/clinic/agendamento/", 200),
        ("recepcao", "/admin/clinic/agendamento/add/", 200),
        ("recepcao", "/admin/clinic/atendimento/", 403),
        ("dentista", "/admin/clinic/agendamento/", 200),
        ("dentista", "/admin/clinic/atendimento/add/", 200),
        ("dentista", "/admin/clinic/agendamento/add/", 403),
        ("gestor", "/admin/clinic/atendimento/add/", 200),
        ("gestor", "/admin/clinic/dentista/add/", 200),
    ]
    for nome, pagina, esperado in casos:
        assert _entrar(demo[nome]).get(pagina).status_code == esperado, (nome, pagina)


def test_the_demo_dentist_is_offered_their_started_open_appointments(demo):
    pagina = _entrar(demo["dentista"]).get("/admin/clinic/atendimento/add/")

    oferecidos = set(pagina.context["adminform"].form.fields["agendamento"].queryset)
    # Its three past appointments, still open (no worker here); not the two to come.
    assert oferecidos == set(Agendamento.objects.filter(data_hora__lte=AGORA))
    assert len(oferecidos) == 3
