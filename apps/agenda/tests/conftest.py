"""A small clinic for the calendar's tests: a user per role, two dentists with weekly plans.

Dentists A (with a login) and B work 08:00-12:00 and 13:00-18:00 every day
of the week (any date is a working day, unless a holiday or closure is
added). ``clinica(agora)`` builds it around ``agora``, so the frozen-clock
tests (``relogio.AGORA``) and the browser's real-clock tests share it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django.utils import timezone

from apps.clinic import services
from apps.clinic.tests.conftest import relogio_parado  # noqa: F401
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.expediente.models import DiaExtra, Jornada

SENHA = "senha-de-teste-123"


def _staff(nome: str, grupo: str | None, senha: str | None):
    usuario = get_user_model().objects.create_user(nome, password=senha, is_staff=True)
    if grupo:
        usuario.groups.add(Group.objects.get(name=grupo))
    return usuario


def as_(dia, hh: int, mm: int = 0) -> datetime:
    """The aware local instant of ``dia`` at ``hh:mm``."""
    return timezone.make_aware(datetime.combine(dia, time(hh, mm)))


def montar_clinica(agora: datetime, *, senha: str | None = None) -> SimpleNamespace:
    """Users, dentists (plans on all 7 weekdays) and two appointments on ``agora``'s next day.

    ``senha``: every user's password (the browser logs in through the form);
    None (unusable) keeps the client tests fast: hashing is slow on purpose.
    """
    c = SimpleNamespace(
        gestor=_staff("gestora", "gestor", senha),
        recepcao=_staff("recepcionista", "recepcao", senha),
        usuario_a=_staff("dra.alice", "dentista", senha),
        usuario_b=_staff("dr.bento", "dentista", senha),
        sem_papel=_staff("estagiario", None, senha),
    )
    c.dentista_a = DentistaFactory(nome="Dra. Alice", usuario=c.usuario_a)
    c.dentista_b = DentistaFactory(nome="Dr. Bento", usuario=c.usuario_b)
    for dentista in (c.dentista_a, c.dentista_b):
        for dia_semana in range(7):
            Jornada.objects.create(
                dentista=dentista, dia_semana=dia_semana, inicio=time(8), fim=time(12)
            )
            Jornada.objects.create(
                dentista=dentista, dia_semana=dia_semana, inicio=time(13), fim=time(18)
            )
    c.paciente_a = PacienteFactory(nome="Mariana Costa")
    c.paciente_b = PacienteFactory(nome="Joaquim Reis")
    c.amanha = timezone.localdate(agora) + timedelta(days=1)
    # Tomorrow works even when it is a holiday (an extra day opens one): the
    # browser's tests take tomorrow from the real clock.
    for dentista in (c.dentista_a, c.dentista_b):
        for inicio, fim in ((time(8), time(12)), (time(13), time(18))):
            DiaExtra.objects.create(dentista=dentista, data=c.amanha, inicio=inicio, fim=fim)

    def agendar(dentista, paciente, inicio, duracao=30):
        return services.agendamento_criar(
            paciente=paciente,
            dentista=dentista,
            data_hora=inicio,
            duracao_minutos=duracao,
            usuario=c.recepcao,
            now=agora,
            permitir_retroativo=True,  # appointments already started, for no-shows
        )

    c.agendar = agendar
    c.a_amanha = agendar(c.dentista_a, c.paciente_a, as_(c.amanha, 9))
    c.b_amanha = agendar(c.dentista_b, c.paciente_b, as_(c.amanha, 10), 45)
    return c


@pytest.fixture
def clinica(db, relogio_parado):  # noqa: F811
    return montar_clinica(relogio_parado)


@pytest.fixture
def cache_local():
    """A cache of this test's own (login and rate limits count in it), no Redis needed."""
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"agenda-{uuid.uuid4().hex}",
        }
    }
    with override_settings(CACHES=caches):
        yield


@pytest.fixture
def como():
    """``como(usuario)``: a django.test.Client logged in as ``usuario``."""

    def entrar(usuario) -> Client:
        cliente = Client()
        cliente.force_login(usuario)
        return cliente

    return entrar
