"""Admin rules that protect the status written by the services (unit level).

The role-by-role tests that drive the admin's pages are in ``tests/admin/``.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from apps.clinic import services
from apps.clinic.admin import AgendamentoAdmin
from apps.clinic.models import Agendamento

from .factories import AgendamentoFactory

pytestmark = pytest.mark.django_db

AGORA = datetime(2026, 12, 2, 23, 50, tzinfo=ZoneInfo("America/Sao_Paulo"))


@pytest.fixture(autouse=True)
def relogio():
    with time_machine.travel(AGORA, tick=False):
        yield


@pytest.fixture
def pedido():
    request = RequestFactory().post("/admin/")
    request.user = get_user_model().objects.create_superuser("gestora", "g@example.invalid", "x")
    return request


def test_an_admin_edit_does_not_reopen_an_appointment_closed_meanwhile(pedido):
    ag = AgendamentoFactory(data_hora=AGORA - timedelta(hours=3))
    carregado_no_formulario = Agendamento.objects.get(pk=ag.pk)  # open, as the form saw it
    services.executar_finalizacao(ag, now=AGORA)  # the worker closes it meanwhile

    formulario = _formulario(
        pedido, carregado_no_formulario, data_hora=ag.data_hora, observacoes="pediu recibo"
    )

    assert not formulario.is_valid()
    assert "Só é possível alterar um agendamento em aberto" in str(formulario.errors)
    ag.refresh_from_db()
    assert (ag.status, ag.active, ag.observacoes) == ("concluido", False, "")


def test_a_closed_appointment_is_read_only_in_the_admin(pedido):
    ag = AgendamentoFactory(data_hora=AGORA - timedelta(days=1), status="faltou", active=False)
    modelo = AgendamentoAdmin(Agendamento, admin.site)
    assert "data_hora" in modelo.get_readonly_fields(pedido, ag)
    assert "data_hora" not in modelo.get_readonly_fields(pedido, AgendamentoFactory())


def test_closing_from_the_admin_records_the_user_as_the_actor(pedido):
    ag = AgendamentoFactory(data_hora=AGORA - timedelta(hours=3))
    modelo = AgendamentoAdmin(Agendamento, admin.site)
    modelo.message_user = lambda *args, **kwargs: None
    modelo.finalizar_vencidos(pedido, Agendamento.objects.filter(pk=ag.pk))
    assert ag.historico.get(status_novo="concluido").usuario == pedido.user


@pytest.mark.parametrize("ano", [1, 1899, 2101, 9999])
def test_a_start_outside_1900_to_2100_is_refused_with_a_pt_br_message(ano):
    ag = AgendamentoFactory.build(data_hora=datetime(ano, 12, 31, 20, 0, tzinfo=ZoneInfo("UTC")))
    ag.paciente.save()
    ag.dentista.save()
    ag.paciente_id, ag.dentista_id = ag.paciente.pk, ag.dentista.pk
    with pytest.raises(ValidationError) as exc:
        ag.full_clean()
    assert exc.value.message_dict["data_hora"] == ["Informe uma data entre os anos de 1900 e 2100."]


def test_a_staff_dentist_sees_only_their_own_records_in_the_admin():
    from django.contrib.auth.models import Group

    from apps.clinic.admin import AtendimentoAdmin
    from apps.clinic.models import Atendimento

    from .factories import DentistaFactory

    usuario = get_user_model().objects.create_user("dra.staff", is_staff=True)
    usuario.groups.add(Group.objects.get(name="dentista"))
    meu = AgendamentoFactory(
        dentista=DentistaFactory(usuario=usuario), data_hora=AGORA - timedelta(hours=3)
    )
    alheio = AgendamentoFactory(data_hora=AGORA - timedelta(hours=3))
    for ag in (meu, alheio):
        services.executar_finalizacao(ag, now=AGORA)
    request = RequestFactory().get("/admin/")
    request.user = usuario
    visiveis = AtendimentoAdmin(Atendimento, admin.site).get_queryset(request)
    assert [a.agendamento_id for a in visiveis] == [meu.pk]


def _formulario(pedido, obj, **dados):
    modelo = AgendamentoAdmin(Agendamento, admin.site)
    Formulario = modelo.get_form(pedido, obj, change=obj is not None)
    inicial = {}
    if obj is not None:
        inicial = {"duracao_minutos": obj.duracao_minutos, "observacoes": obj.observacoes}
    local = timezone.localtime(dados.pop("data_hora"))
    campos = {
        **inicial,
        "data_hora_0": local.strftime("%d/%m/%Y"),
        "data_hora_1": local.strftime("%H:%M:%S"),
        **dados,
    }
    return Formulario(data=campos, instance=obj)


def test_the_admin_form_refuses_a_double_booking_with_the_services_message(pedido):
    existente = AgendamentoFactory()
    outro = AgendamentoFactory(
        dentista=existente.dentista, data_hora=existente.data_hora + timedelta(hours=2)
    )
    formulario = _formulario(pedido, outro, data_hora=existente.data_hora + timedelta(minutes=10))
    assert not formulario.is_valid()
    assert "O dentista já tem um agendamento de" in str(formulario.errors)


def test_the_admin_form_refuses_a_new_booking_on_an_occupied_slot(pedido):
    existente = AgendamentoFactory()
    formulario = _formulario(
        pedido,
        None,
        data_hora=existente.data_hora,
        paciente=existente.paciente.pk,
        dentista=existente.dentista.pk,
        duracao_minutos=30,
    )
    assert not formulario.is_valid()
    assert "O dentista já tem um agendamento de" in str(formulario.errors)
