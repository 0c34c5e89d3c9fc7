"""The working-hours rule as users meet it: the API and the admin, with the real rule.

Issue 12's "done when": bookings at 03:00, on a national holiday or during a
dentist's vacation are refused with messages that say why; the gestor's
override goes through and is written in the history.
"""

from datetime import date, datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from apps.clinic import services
from apps.clinic.models import Agendamento, HistoricoStatus
from apps.clinic.tests.factories import AgendamentoFactory, DentistaFactory, PacienteFactory
from apps.clinic.tests.relogio import AGORA, SP
from apps.expediente.models import Ausencia
from apps.expediente.services import SEMANA_COMERCIAL, jornada_semanal_definir

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

QUINTA = date(2026, 12, 3)  # the day after AGORA (Wednesday 2026-12-02 10:00)
NATAL = date(2026, 12, 25)
FERIAS = date(2026, 12, 14)


def _as(dia: date, hh: int, mm: int = 0) -> str:
    return datetime.combine(dia, time(hh, mm), tzinfo=SP).isoformat()


@pytest.fixture
def dentista():
    d = DentistaFactory()
    jornada_semanal_definir(dentista=d, periodos_por_dia=SEMANA_COMERCIAL)
    Ausencia.objects.create(
        dentista=d, tipo="ferias", data_inicio=FERIAS, data_fim=FERIAS + timedelta(days=4)
    )
    return d


def _usuario(papel: str, **extra):
    usuario = get_user_model().objects.create_user(f"u-{papel}", **extra)
    usuario.groups.add(Group.objects.get(name=papel))
    return usuario


def _api(papel: str) -> APIClient:
    cliente = APIClient()
    cliente.force_authenticate(_usuario(papel))
    return cliente


def _corpo(dentista, data_hora: str, **extra) -> dict:
    return {
        "paciente": PacienteFactory().pk,
        "dentista": dentista.pk,
        "data_hora": data_hora,
        "duracao_minutos": 30,
        **extra,
    }


@pytest.mark.parametrize(
    ("inicio", "mensagem"),
    [
        (
            _as(QUINTA, 3),
            "Fora do expediente do dentista na quinta-feira, 03/12/2026, "
            "que é das 08:00 às 12:00 e das 13:00 às 18:00.",
        ),
        (
            _as(NATAL, 9),
            "O dentista não atende na sexta-feira, 25/12/2026: feriado nacional: Natal.",
        ),
        (_as(FERIAS, 9), "O dentista não atende na segunda-feira, 14/12/2026: férias."),
    ],
)
def test_the_api_refuses_with_a_message_that_says_why(dentista, inicio, mensagem):
    resposta = _api("recepcao").post("/api/agendamentos/", _corpo(dentista, inicio), format="json")
    assert resposta.status_code == 400
    assert resposta.json()["data_hora"] == [mensagem]
    assert not Agendamento.objects.exists()


def test_the_api_accepts_inside_the_hours_and_refuses_a_reschedule_out_of_them(dentista):
    recepcao = _api("recepcao")
    criado = recepcao.post(
        "/api/agendamentos/", _corpo(dentista, _as(QUINTA, 17, 30)), format="json"
    )
    assert criado.status_code == 201, criado.json()
    url = f"/api/agendamentos/{criado.json()['id']}/"
    resposta = recepcao.patch(url, {"duracao_minutos": 60}, format="json")
    assert resposta.status_code == 400
    assert resposta.json()["data_hora"][0].endswith(": o atendimento terminaria às 18:30.")


def test_the_gestor_overrides_through_the_api_and_the_history_says_why(dentista):
    resposta = _api("gestor").post(
        "/api/agendamentos/",
        _corpo(dentista, _as(NATAL, 9), fora_do_expediente=True),
        format="json",
    )
    assert resposta.status_code == 201, resposta.json()
    historico = HistoricoStatus.objects.get(agendamento_id=resposta.json()["id"])
    assert historico.motivo == (
        "Agendado fora do expediente: O dentista não atende na sexta-feira, "
        "25/12/2026: feriado nacional: Natal."
    )


def test_the_admin_form_shows_the_refusal(dentista):
    navegador = Client()
    navegador.force_login(_usuario("recepcao", is_staff=True))
    paciente = PacienteFactory()
    resposta = navegador.post(
        "/admin/clinic/agendamento/add/",
        {
            "paciente": paciente.pk,
            "dentista": dentista.pk,
            "data_hora_0": "25/12/2026",
            "data_hora_1": "09:00",
            "duracao_minutos": 30,
            "observacoes": "",
        },
    )
    assert resposta.status_code == 200
    assert "feriado nacional: Natal" in resposta.content.decode()
    assert not Agendamento.objects.exists()


def test_the_override_box_posted_by_someone_without_it_is_ignored_and_the_refusal_shown(dentista):
    # The box is not on the receptionist's form, but the form class declared it:
    # a crafted POST with it got its refusal on a field the page never shows
    # ("Por favor corrija o erro abaixo." and no error).
    navegador = Client()
    navegador.force_login(_usuario("recepcao", is_staff=True))
    resposta = navegador.post(
        "/admin/clinic/agendamento/add/",
        {
            "paciente": PacienteFactory().pk,
            "dentista": dentista.pk,
            "data_hora_0": "25/12/2026",
            "data_hora_1": "09:00",
            "duracao_minutos": 30,
            "observacoes": "",
            "fora_do_expediente": "on",
        },
    )
    assert resposta.status_code == 200
    assert "fora_do_expediente" not in resposta.context["adminform"].form.fields
    assert "feriado nacional: Natal" in resposta.content.decode()
    assert not Agendamento.objects.exists()


def test_the_gestor_overrides_through_the_admins_box(dentista):
    navegador = Client()
    navegador.force_login(_usuario("gestor", is_staff=True))
    url = "/admin/clinic/agendamento/add/"
    assert 'name="fora_do_expediente"' in navegador.get(url).content.decode()
    resposta = navegador.post(
        url,
        {
            "paciente": PacienteFactory().pk,
            "dentista": dentista.pk,
            "data_hora_0": "25/12/2026",
            "data_hora_1": "09:00",
            "duracao_minutos": 30,
            "observacoes": "",
            "fora_do_expediente": "on",
            # The inlines' management forms (visit record, history), empty.
            "atendimento-TOTAL_FORMS": 0,
            "atendimento-INITIAL_FORMS": 0,
            "historico-TOTAL_FORMS": 0,
            "historico-INITIAL_FORMS": 0,
        },
    )
    assert resposta.status_code == 302, resposta.context["adminform"].form.errors
    historico = HistoricoStatus.objects.get(agendamento=Agendamento.objects.get())
    assert historico.motivo.startswith("Agendado fora do expediente: O dentista não atende")


def test_the_no_show_import_placeholder_times_are_outside_the_rule(dentista):
    # The import has no times: its appointments carry horario_estimado (00:00 of the day).
    no_natal = AgendamentoFactory.build(
        dentista=dentista, data_hora=datetime.combine(NATAL, time(0), tzinfo=SP)
    )
    with pytest.raises(ValidationError, match="feriado nacional: Natal"):
        services.agendamento_validar_horario(no_natal, now=AGORA, permitir_retroativo=False)
    no_natal.horario_estimado = True
    assert (
        services.agendamento_validar_horario(no_natal, now=AGORA, permitir_retroativo=False) == []
    )
