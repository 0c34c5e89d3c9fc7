"""History times follow the order of the transitions (issue 10, item 1).

The chaos run found a close that claimed a row right after a concurrent
confirm committed: the close's ``now`` was read before the confirm's, so its
history row was older and ``/historico/`` (sorted by time) ended on
"confirmado" for a concluded appointment. These tests give a service a
``now`` older than the row's last history time, which is that interleaving
made deterministic.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from apps.clinic import services
from apps.clinic.models import Agendamento, HistoricoStatus

from .factories import DentistaFactory, PacienteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]


@pytest.fixture
def gestor():
    usuario = get_user_model().objects.create_user("gestora-historico")
    usuario.groups.add(Group.objects.get(name="gestor"))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    cliente.usuario = usuario
    return cliente


def _confirmado_depois_de_terminar(usuario) -> tuple[Agendamento, timezone.datetime]:
    """Booked 3 h ago for 30 min, confirmed now: returns it and the confirm's time."""
    agora = timezone.now()
    ag = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=agora - timedelta(hours=3),
        now=agora - timedelta(hours=4),
        permitir_retroativo=True,
    )
    services.agendamento_confirmar(ag, usuario=usuario, now=agora)
    return ag, agora


def _status_do_historico(cliente, pk: int) -> list[str]:
    resposta = cliente.get(f"/api/agendamentos/{pk}/historico/")
    assert resposta.status_code == 200
    return [linha["status_novo"] for linha in resposta.data]


def test_a_close_whose_now_predates_a_committed_confirm_is_recorded_after_it(gestor):
    ag, confirmado_em = _confirmado_depois_de_terminar(gestor.usuario)

    # The task read its clock 2 s before the confirm committed, then claimed the row.
    atendimento = services.executar_finalizacao(
        ag, now=confirmado_em - timedelta(seconds=2), task_id="t-atrasada"
    )

    assert atendimento is not None
    assert _status_do_historico(gestor, ag.pk) == ["agendado", "confirmado", "concluido"]
    fechamento = HistoricoStatus.objects.get(agendamento=ag, status_novo="concluido")
    assert fechamento.registrado_em >= confirmado_em
    ag.refresh_from_db()
    assert ag.updated_at >= confirmado_em


def test_the_sweep_with_an_old_now_also_records_its_close_after_the_confirm(gestor):
    ag, confirmado_em = _confirmado_depois_de_terminar(gestor.usuario)
    # A row with no history at all keeps the sweep's own now.
    sem_historico = Agendamento.objects.create(
        paciente=PacienteFactory(),
        dentista=DentistaFactory(),
        data_hora=confirmado_em - timedelta(hours=5),
    )
    varredura_em = confirmado_em - timedelta(seconds=2)

    assert services.finalizar_agendamentos_vencidos(now=varredura_em) == 2

    assert _status_do_historico(gestor, ag.pk) == ["agendado", "confirmado", "concluido"]
    assert (
        HistoricoStatus.objects.get(agendamento=ag, status_novo="concluido").registrado_em
        >= confirmado_em
    )
    assert HistoricoStatus.objects.get(agendamento=sem_historico).registrado_em == varredura_em


def test_a_manual_transition_with_an_old_now_is_recorded_after_the_last_one(gestor):
    ag, confirmado_em = _confirmado_depois_de_terminar(gestor.usuario)

    services.agendamento_marcar_falta(
        ag, usuario=gestor.usuario, now=confirmado_em - timedelta(minutes=1)
    )

    assert _status_do_historico(gestor, ag.pk) == ["agendado", "confirmado", "faltou"]
    falta = HistoricoStatus.objects.get(agendamento=ag, status_novo="faltou")
    assert falta.registrado_em == confirmado_em


def test_a_transition_with_a_later_now_keeps_its_own_time(gestor):
    ag, confirmado_em = _confirmado_depois_de_terminar(gestor.usuario)
    depois = confirmado_em + timedelta(minutes=5)

    services.executar_finalizacao(ag, now=depois)

    fechamento = HistoricoStatus.objects.get(agendamento=ag, status_novo="concluido")
    assert fechamento.registrado_em == depois
