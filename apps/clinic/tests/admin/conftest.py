"""A small clinic for the admin's role tests, at one fixed instant.

Two dentists (A and B, each with a login and a patient), a receptionist, a
manager in the "gestor" group (not a superuser) and a superuser, all staff
users as ``manage.py demo`` makes them. Every test here runs at ``AGORA``
(time_machine, clock stopped), so nothing depends on the wall clock.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from apps.clinic import services

from ..factories import AgendamentoFactory, DentistaFactory, PacienteFactory
from .apoio import AGORA, DIAGNOSTICO_B, PACIENTE_A, PACIENTE_B


@pytest.fixture(autouse=True)
def relogio():
    with time_machine.travel(AGORA, tick=False):
        yield


def _staff(nome: str, grupo: str | None = None, **extra):
    usuario = get_user_model().objects.create_user(nome, is_staff=True, **extra)
    if grupo:
        usuario.groups.add(Group.objects.get(name=grupo))
    return usuario


@pytest.fixture
def clinica(db):
    """The clinic: users by role, and each dentist's appointments in every state."""
    c = SimpleNamespace(
        gestor=_staff("gestora", "gestor"),
        superusuario=_staff("raiz", is_superuser=True),
        recepcao=_staff("recepcionista", "recepcao"),
        usuario_a=_staff("dra.alice", "dentista"),
        usuario_b=_staff("dr.bento", "dentista"),
    )
    c.dentista_a = DentistaFactory(nome="Dra. Alice", usuario=c.usuario_a)
    c.dentista_b = DentistaFactory(nome="Dr. Bento", usuario=c.usuario_b)
    c.paciente_a = PacienteFactory(nome=PACIENTE_A)
    c.paciente_b = PacienteFactory(nome=PACIENTE_B)

    def agendar(dentista, paciente, inicio):
        return AgendamentoFactory(dentista=dentista, paciente=paciente, data_hora=inicio)

    a, b = (c.dentista_a, c.paciente_a), (c.dentista_b, c.paciente_b)
    # Open: in progress (started 10 min ago, 30 min long), ended, in the future.
    c.a_andamento = agendar(*a, AGORA - timedelta(minutes=10))
    c.b_andamento = agendar(*b, AGORA - timedelta(minutes=10))
    c.a_vencido = agendar(*a, AGORA - timedelta(hours=2))
    c.a_futuro = agendar(*a, AGORA + timedelta(days=2))
    c.b_futuro = agendar(*b, AGORA + timedelta(days=2))
    # Closed: cancelled, closed by the job (automatic record), closed by B.
    c.a_cancelado = agendar(*a, AGORA - timedelta(hours=1))
    services.agendamento_cancelar(c.a_cancelado, usuario=c.recepcao, now=AGORA, motivo="viagem")
    c.a_concluido = agendar(*a, AGORA - timedelta(hours=3))
    c.atendimento_a = services.executar_finalizacao(c.a_concluido, now=AGORA)
    c.b_concluido = agendar(*b, AGORA - timedelta(hours=3))
    c.atendimento_b = services.agendamento_finalizar(
        c.b_concluido,
        usuario=c.usuario_b,
        now=AGORA,
        diagnostico=DIAGNOSTICO_B,
        tratamento_realizado="Restauração",
    )
    return c


@pytest.fixture
def como():
    """``como(usuario)``: a browser (django.test.Client) logged in as ``usuario``."""

    def entrar(usuario) -> Client:
        navegador = Client()
        navegador.force_login(usuario)
        return navegador

    return entrar
