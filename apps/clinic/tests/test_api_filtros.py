"""The list filters never tell a user whether a row they may not see exists."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from apps.clinic import services

from .factories import AgendamentoFactory, DentistaFactory
from .relogio import AGORA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


def _dentista(nome: str):
    usuario = get_user_model().objects.create_user(nome)
    usuario.groups.add(Group.objects.get(name="dentista"))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    return DentistaFactory(usuario=usuario), cliente


def test_another_dentists_ids_in_a_filter_answer_like_ids_that_do_not_exist():
    # Found by the break-it review: ?paciente=999 was a 400 "escolha válida" and
    # another dentist's patient an empty 200, so a dentist could map the ids.
    _a, cliente_a = _dentista("dra.a")
    b, _cliente_b = _dentista("dr.b")
    de_b = AgendamentoFactory(dentista=b, data_hora=AGORA.replace(hour=8))
    registro_b = services.executar_finalizacao(de_b, now=AGORA)
    assert registro_b is not None

    for url in (
        f"/api/agendamentos/?paciente={de_b.paciente_id}",
        "/api/agendamentos/?paciente=999999",
        f"/api/atendimentos/?agendamento={de_b.pk}",
        "/api/atendimentos/?agendamento=999999",
    ):
        resposta = cliente_a.get(url)
        assert (resposta.status_code, resposta.json()["results"]) == (200, []), url


def test_the_id_filters_still_filter_and_refuse_what_is_not_a_number():
    a, cliente_a = _dentista("dra.a")
    meu = AgendamentoFactory(dentista=a, data_hora=AGORA.replace(hour=8))
    outro = AgendamentoFactory(dentista=a, data_hora=AGORA.replace(hour=9))

    resposta = cliente_a.get(f"/api/agendamentos/?paciente={meu.paciente_id}")
    assert [linha["id"] for linha in resposta.json()["results"]] == [meu.pk]
    assert outro.pk != meu.pk
    assert cliente_a.get("/api/agendamentos/?paciente=abc").status_code == 400
