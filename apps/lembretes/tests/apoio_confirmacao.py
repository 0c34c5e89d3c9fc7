"""Shared builders of the confirmation tests: an appointment with a sent reminder, a cache.

The sending is the other helper's; these tests create ``Lembrete`` rows
directly, as the send task leaves them (``situacao`` enviado).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.test import override_settings

from apps.clinic import services
from apps.clinic.models import Agendamento, HistoricoStatus
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.lembretes.links import token_para
from apps.lembretes.models import Canal, Lembrete, RegraLembrete

NOME_PACIENTE = "Mariana Albuquerque Teixeira"
CPF = "529.982.247-25"
TELEFONE = "+55 11 98765-4321"
EMAIL = "mariana.teixeira@example.com"
OBSERVACOES = "Dor no dente 36, suspeita de pulpite"
DENTISTA = "Dra. Helena Prado"


def regra(nome: str = "24 horas antes", antecedencia: int = 24 * 60) -> RegraLembrete:
    regra, _ = RegraLembrete.objects.get_or_create(
        nome=nome,
        defaults={
            "antecedencia_minutos": antecedencia,
            "canal": Canal.EMAIL,
            "modelo": "Olá, {paciente}! {data} {hora} {dentista} {clinica} {link}",
        },
    )
    return regra


def agendamento(inicio: datetime, *, now: datetime, dentista=None, **paciente) -> Agendamento:
    """An open appointment at ``inicio`` booked through the service (its history starts)."""
    dados = {"nome": NOME_PACIENTE, "cpf": CPF, "telefone": TELEFONE, "email": EMAIL}
    dados.update(paciente)
    return services.agendamento_criar(
        paciente=PacienteFactory(**dados),
        dentista=dentista or DentistaFactory(nome=DENTISTA),
        data_hora=inicio,
        observacoes=OBSERVACOES,
        now=now,
    )


def lembrete_enviado(ag: Agendamento, *, enviado_em: datetime, regra_=None) -> Lembrete:
    """The reminder of ``ag`` for its current start, as the send task leaves it."""
    regra_ = regra_ or regra()
    return Lembrete.objects.create(
        agendamento=ag,
        regra=regra_,
        inicio=ag.data_hora,
        canal=regra_.canal,
        previsto_para=ag.data_hora - timedelta(minutes=regra_.antecedencia_minutos),
        situacao=Lembrete.Situacao.ENVIADO,
        tentativas=1,
        enviado_em=enviado_em,
    )


def caminho(lembrete: Lembrete) -> str:
    """The link's path (``url_para`` without ``SITE_URL``)."""
    return f"/confirmar/{token_para(lembrete)}/"


def retrato(ag: Agendamento) -> tuple:
    """Everything a bad link must leave alone: the appointment, its history, its reminders."""
    ag = Agendamento.objects.get(pk=ag.pk)
    return (
        ag.status,
        ag.active,
        ag.cancelamento_tardio,
        ag.updated_at,
        HistoricoStatus.objects.filter(agendamento=ag).count(),
        list(
            Lembrete.objects.filter(agendamento=ag)
            .order_by("pk")
            .values_list("resposta", "respondido_em", "updated_at")
        ),
    )


@pytest.fixture
def cache_local():
    """A cache of this test's own (the page's rate limit counts in it), no Redis needed."""
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"confirmacao-{uuid.uuid4().hex}",
        }
    }
    with override_settings(CACHES=caches):
        yield
