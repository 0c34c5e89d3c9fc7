"""The hook other apps' booking rules use (apps.clinic.regras), through the API and the services.

A rule registered here is obeyed by every door; a gestor may override it
only when asking for it, and the override is written in the history.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from apps.clinic import services
from apps.clinic.models import HistoricoStatus
from apps.clinic.regras import registrar_regra_de_horario, remover_regra_de_horario

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory
from .relogio import AGORA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

MENSAGEM = "Fora do horário de teste (só às segundas)."


@pytest.fixture
def regra_segundas():
    """A rule refusing any start that is not on a Monday (clinic's zone)."""
    from django.utils import timezone

    def so_segundas(agendamento):
        if timezone.localtime(agendamento.data_hora).weekday() != 0:
            raise ValidationError({"data_hora": MENSAGEM})

    registrar_regra_de_horario("teste", so_segundas)
    yield
    remover_regra_de_horario("teste")


def _cliente(papel: str) -> APIClient:
    usuario = get_user_model().objects.create_user(f"u-{papel}")
    usuario.groups.add(Group.objects.get(name=papel))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    return cliente


def _proxima(weekday: int):
    """10:00 local, on the first ``weekday`` (0 = Monday) at least two days after AGORA."""
    from django.utils import timezone

    dia = timezone.localtime(AGORA + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    while dia.weekday() != weekday:
        dia += timedelta(days=1)
    return dia


def _corpo(data_hora, **extra):
    return {
        "paciente": PacienteFactory().pk,
        "dentista": DentistaFactory().pk,
        "data_hora": data_hora.isoformat(),
        "duracao_minutos": 30,
        **extra,
    }


@pytest.mark.usefixtures("regra_segundas")
@pytest.mark.parametrize("papel", ["recepcao", "gestor"])
def test_a_registered_rule_refuses_a_booking_with_its_message(papel):
    resposta = _cliente(papel).post("/api/agendamentos/", _corpo(_proxima(1)), format="json")
    assert resposta.status_code == 400
    assert resposta.json()["data_hora"] == [MENSAGEM]


@pytest.mark.usefixtures("regra_segundas")
def test_the_rule_accepts_what_it_allows():
    resposta = _cliente("recepcao").post("/api/agendamentos/", _corpo(_proxima(0)), format="json")
    assert resposta.status_code == 201, resposta.json()


@pytest.mark.usefixtures("regra_segundas")
def test_only_a_gestor_may_override_and_the_history_says_so():
    recusa = _cliente("recepcao").post(
        "/api/agendamentos/", _corpo(_proxima(1), fora_do_expediente=True), format="json"
    )
    assert recusa.status_code == 400
    assert "fora_do_expediente" in recusa.json()

    aceito = _cliente("gestor").post(
        "/api/agendamentos/", _corpo(_proxima(1), fora_do_expediente=True), format="json"
    )
    assert aceito.status_code == 201, aceito.json()
    (primeiro,) = HistoricoStatus.objects.filter(agendamento_id=aceito.json()["id"])
    assert primeiro.motivo == f"Agendado fora do expediente: {MENSAGEM}"


@pytest.mark.usefixtures("regra_segundas")
def test_a_reschedule_obeys_the_rule_and_an_override_adds_a_history_row():
    segunda = _proxima(0)
    ag = AgendamentoFactory(data_hora=segunda)
    gestor = _cliente("gestor")
    url = f"/api/agendamentos/{ag.pk}/"

    recusa = gestor.patch(
        url, {"data_hora": (segunda + timedelta(days=1)).isoformat()}, format="json"
    )
    assert recusa.status_code == 400
    assert recusa.json()["data_hora"] == [MENSAGEM]
    antes = HistoricoStatus.objects.filter(agendamento=ag).count()

    aceito = gestor.patch(
        url,
        {"data_hora": (segunda + timedelta(days=1)).isoformat(), "fora_do_expediente": True},
        format="json",
    )
    assert aceito.status_code == 200, aceito.json()
    novos = list(HistoricoStatus.objects.filter(agendamento=ag).order_by("id"))[antes:]
    assert [(h.status_anterior, h.status_novo) for h in novos] == [("agendado", "agendado")]
    assert novos[0].motivo == f"Reagendado fora do expediente: {MENSAGEM}"


@pytest.mark.usefixtures("regra_segundas")
def test_placeholder_times_are_outside_the_rules():
    ag = AgendamentoFactory.build(data_hora=_proxima(1), horario_estimado=True)
    assert services.agendamento_validar_horario(ag, now=AGORA, permitir_retroativo=True) == []
