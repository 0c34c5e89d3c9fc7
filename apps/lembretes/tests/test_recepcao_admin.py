"""The admin's "Confirmações" page: tomorrow's unconfirmed, the phone action, each role."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from apps.clinic.models import Agendamento, HistoricoStatus
from apps.clinic.tests.conftest import relogio_parado  # noqa: F401
from apps.clinic.tests.factories import DentistaFactory
from apps.clinic.tests.relogio import AGORA
from apps.lembretes.confirmacao import responder
from apps.lembretes.links import token_para

from .apoio_confirmacao import TELEFONE, agendamento, lembrete_enviado

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

URL = "/admin/lembretes/agendamentoconfirmacao/"
AMANHA_9H = AGORA + timedelta(hours=23)


def _staff(nome, grupo=None, **extra):
    usuario = get_user_model().objects.create_user(nome, is_staff=True, **extra)
    if grupo:
        usuario.groups.add(Group.objects.get(name=grupo))
    return usuario


def _cliente(usuario):
    cliente = Client()
    cliente.force_login(usuario)
    return cliente


@pytest.fixture
def cenario():
    dr = DentistaFactory(nome="Dr. Caio", usuario=_staff("dr-caio", "dentista"))
    pendente = agendamento(AMANHA_9H, now=AGORA, dentista=dr, nome="Joana Pereira")
    lembrete_enviado(pendente, enviado_em=AGORA - timedelta(hours=1))
    confirmado = agendamento(AMANHA_9H + timedelta(hours=2), now=AGORA, nome="Rita Souza", cpf=None)
    lembrete = lembrete_enviado(confirmado, enviado_em=AGORA - timedelta(hours=1))
    responder(token_para(lembrete), "confirmar", now=AGORA)
    hoje = agendamento(AGORA + timedelta(hours=3), now=AGORA, nome="Otavio Lima", cpf=None)
    return {"pendente": pendente, "confirmado": confirmado, "hoje": hoje, "dentista": dr}


def test_it_opens_on_tomorrows_unconfirmed_with_phone_and_reminders(cenario):
    html = _cliente(_staff("rec", "recepcao")).get(URL).content.decode()

    assert "Joana Pereira" in html and TELEFONE in html and "Dr. Caio" in html
    assert "24 horas antes: Enviado" in html
    assert "Rita Souza" not in html and "Otavio Lima" not in html
    assert "Confirmar (por telefone)" in html


@pytest.mark.parametrize(
    ("parametros", "aparece", "some"),
    [
        ({"confirmacao": "confirmado"}, "Rita Souza", "Joana Pereira"),
        ({"confirmacao": "todas"}, "Rita Souza", "Otavio Lima"),
        ({"dia": "hoje"}, "Otavio Lima", "Joana Pereira"),
    ],
)
def test_the_filters_pick_the_day_and_the_confirmation(cenario, parametros, aparece, some):
    html = _cliente(_staff("gestora", "gestor")).get(URL, parametros).content.decode()
    assert aparece in html and some not in html


def test_the_phone_action_confirms_with_the_user_as_actor(cenario):
    usuario = _staff("rec", "recepcao")
    resposta = _cliente(usuario).post(
        URL,
        {
            "action": "confirmar_por_telefone",
            # today's row is not on tomorrow's page: the action never reaches it
            "_selected_action": [cenario["pendente"].pk, cenario["hoje"].pk],
        },
        follow=True,
    )

    assert "1 agendamento confirmado." in resposta.content.decode()
    ag = Agendamento.objects.get(pk=cenario["pendente"].pk)
    assert ag.status == "confirmado"
    assert HistoricoStatus.objects.filter(agendamento=ag).last().ator == "rec"
    assert Agendamento.objects.get(pk=cenario["hoje"].pk).status == "agendado"


def test_an_already_confirmed_row_is_reported_not_changed(cenario):
    resposta = _cliente(_staff("rec", "recepcao")).post(
        URL + "?confirmacao=confirmado",
        {"action": "confirmar_por_telefone", "_selected_action": [cenario["confirmado"].pk]},
        follow=True,
    )
    assert f"Agendamento nº {cenario['confirmado'].pk} não foi alterado" in (
        resposta.content.decode()
    )


def test_it_is_read_only(cenario):
    cliente = _cliente(_staff("gestora", "gestor"))
    pk = cenario["pendente"].pk
    assert cliente.get(URL + "add/").status_code == 403
    html = cliente.get(URL).content.decode()
    assert f'href="{URL}{pk}/change/"' not in html
    assert "delete_selected" not in html


def test_roles_dentist_is_403_anonymous_goes_to_login(cenario):
    assert _cliente(cenario["dentista"].usuario).get(URL).status_code == 403
    assert _cliente(_staff("sem-papel")).get(URL).status_code == 403
    anonimo = Client().get(URL)
    assert anonimo.status_code == 302 and "/admin/login/" in anonimo["Location"]
    assert _cliente(_staff("raiz", is_superuser=True)).get(URL).status_code == 200
