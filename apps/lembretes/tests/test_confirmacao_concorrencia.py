"""Two tabs, a double click: concurrent answers through one link make exactly one transition.

Threads with their own database connections (``transaction=True``): on
PostgreSQL the row locks and the conditional UPDATE decide; on SQLite the
immediate transactions serialize the writers.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from apps.clinic.models import HistoricoStatus
from apps.clinic.tests.relogio import AGORA
from apps.lembretes.confirmacao import Resultado, responder
from apps.lembretes.links import token_para
from apps.lembretes.models import Lembrete

from .apoio_confirmacao import agendamento, cache_local, lembrete_enviado  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("cache_local")]

N = 8


def _em_paralelo(funcao, argumentos):
    largada = threading.Barrier(len(argumentos))
    resultados, erros = [None] * len(argumentos), []

    def correr(i, arg):
        try:
            largada.wait(timeout=10)
            resultados[i] = funcao(arg)
        except Exception as erro:  # noqa: BLE001 - reported below
            erros.append(erro)
        finally:
            connection.close()

    threads = [threading.Thread(target=correr, args=(i, a)) for i, a in enumerate(argumentos)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not erros, erros
    return resultados


@pytest.fixture
def cenario(time_machine):
    time_machine.move_to(AGORA, tick=False)
    ag = agendamento(AGORA + timedelta(days=1, hours=5), now=AGORA)
    return ag, lembrete_enviado(ag, enviado_em=AGORA)


def test_concurrent_answers_through_one_link_make_one_transition(cenario):
    ag, lembrete = cenario
    token = token_para(lembrete)
    acoes = ["confirmar", "cancelar"] * (N // 2)

    resultados = _em_paralelo(lambda acao: responder(token, acao, now=AGORA).resultado, acoes)

    feitos = [r for r in resultados if r in (Resultado.CONFIRMADO, Resultado.CANCELADO)]
    assert len(feitos) == 1, resultados
    assert resultados.count(Resultado.RECUSADO) == N - 1
    ag.refresh_from_db()
    assert ag.status == feitos[0].value
    assert HistoricoStatus.objects.filter(agendamento=ag, pelo_paciente=True).count() == 1
    lembrete.refresh_from_db()
    assert lembrete.resposta == feitos[0].value


def test_a_double_click_on_confirmar_posts_twice_and_confirms_once(cenario):
    ag, lembrete = cenario
    url = f"/confirmar/{token_para(lembrete)}/"
    cliente = Client(enforce_csrf_checks=True)
    cliente.get(url)
    csrf = cliente.cookies["csrftoken"].value

    def postar(_):
        # One browser: the same cookie in both requests, each thread its own client.
        outro = Client(enforce_csrf_checks=True)
        outro.cookies["csrftoken"] = csrf
        return outro.post(url, {"csrfmiddlewaretoken": csrf, "acao": "confirmar"}).status_code

    codigos = _em_paralelo(postar, range(2))

    assert sorted(codigos) == [200, 302]  # one redirect to the answer, one "já respondido" page
    assert HistoricoStatus.objects.filter(agendamento=ag, status_novo="confirmado").count() == 1
    assert Lembrete.objects.filter(pk=lembrete.pk, resposta="confirmado").count() == 1
