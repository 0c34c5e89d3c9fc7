"""REST API of the free slots: roles, bad input, and what removes a slot."""

from datetime import date, time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from apps.clinic import services
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.clinic.tests.relogio import AGORA
from apps.expediente.models import Ausencia, Fechamento, Jornada

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("relogio_parado")]

QUINTA = "2026-12-03"  # the day after AGORA (Wednesday 2 December 2026, 10:00)


def _cliente(nome: str, grupo: str | None):
    usuario = get_user_model().objects.create_user(nome, password="s3nha-l0nga-demais")
    if grupo:
        usuario.groups.add(Group.objects.get(name=grupo))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    cliente.usuario = usuario
    return cliente


def _com_jornada(dentista):
    for dia_semana in range(5):
        Jornada.objects.create(
            dentista=dentista, dia_semana=dia_semana, inicio=time(8), fim=time(12)
        )
    return dentista


@pytest.fixture
def recepcao():
    return _cliente("recepcionista", "recepcao")


@pytest.fixture
def dentista():
    cliente = _cliente("dra.ana", "dentista")
    cliente.dentista = _com_jornada(DentistaFactory(usuario=cliente.usuario, nome="Ana"))
    return cliente


@pytest.fixture
def outro():
    return _com_jornada(DentistaFactory(nome="Bruno"))


def _livres(cliente, dentista_id, **params):
    params = {"de": QUINTA, "duracao": 30, **params}
    return cliente.get(f"/api/dentistas/{dentista_id}/horarios-livres/", params)


def test_a_receptionist_gets_a_dentists_slots_with_the_clinics_offset(recepcao, outro):
    resposta = _livres(recepcao, outro.pk)
    assert resposta.status_code == 200, resposta.content
    corpo = resposta.json()
    assert corpo["dentista"] == outro.pk and corpo["nome"] == "Bruno"
    assert corpo["duracao_minutos"] == 30 and corpo["aviso"] == ""
    assert corpo["horarios"][:2] == ["2026-12-03T08:00:00-03:00", "2026-12-03T08:15:00-03:00"]
    assert corpo["horarios"][-1] == "2026-12-03T11:30:00-03:00"


def test_the_found_slot_can_be_booked_and_then_is_gone(recepcao, outro):
    primeiro = _livres(recepcao, outro.pk).json()["horarios"][0]
    reserva = recepcao.post(
        "/api/agendamentos/",
        {
            "paciente": PacienteFactory().pk,
            "dentista": outro.pk,
            "data_hora": primeiro,
            "duracao_minutos": 30,
        },
        format="json",
    )
    assert reserva.status_code == 201, reserva.content
    depois = _livres(recepcao, outro.pk).json()["horarios"]
    assert primeiro not in depois and depois[0] == "2026-12-03T08:30:00-03:00"


def test_a_cancelled_appointment_frees_its_slots(recepcao, outro):
    ag = services.agendamento_criar(
        paciente=PacienteFactory(),
        dentista=outro,
        data_hora=AGORA.replace(day=3, hour=8),
        now=AGORA,
    )
    assert "2026-12-03T08:00:00-03:00" not in _livres(recepcao, outro.pk).json()["horarios"]
    services.agendamento_cancelar(ag, usuario=None, motivo="teste", now=AGORA)
    assert "2026-12-03T08:00:00-03:00" in _livres(recepcao, outro.pk).json()["horarios"]


def test_past_slots_are_not_offered(recepcao, outro):
    hoje = _livres(recepcao, outro.pk, de="2026-12-02").json()["horarios"]
    assert hoje[0] == "2026-12-02T10:00:00-03:00"


def test_holidays_vacations_and_closures_have_no_slots(recepcao, outro):
    assert _livres(recepcao, outro.pk, de="2026-12-25").json()["horarios"] == []  # Natal
    Ausencia.objects.create(
        dentista=outro, tipo="ferias", data_inicio=date(2026, 12, 3), data_fim=date(2026, 12, 3)
    )
    assert _livres(recepcao, outro.pk).json()["horarios"] == []
    Fechamento.objects.create(
        data_inicio=date(2026, 12, 4), data_fim=date(2026, 12, 4), descricao="Reforma"
    )
    assert _livres(recepcao, outro.pk, de="2026-12-04").json()["horarios"] == []


def test_a_dentist_without_a_plan_gets_a_warning(recepcao):
    corpo = _livres(recepcao, DentistaFactory().pk).json()
    assert corpo["horarios"] == [] and "jornada" in corpo["aviso"]


def test_a_dentist_sees_their_own_slots_and_not_anothers(dentista, outro):
    assert _livres(dentista, dentista.dentista.pk).status_code == 200
    assert _livres(dentista, outro.pk).status_code == 404
    busca = dentista.get("/api/horarios-livres/", {"de": QUINTA})
    assert [d["dentista"] for d in busca.json()["dentistas"]] == [dentista.dentista.pk]
    assert dentista.get("/api/horarios-livres/", {"dentista": outro.pk}).status_code == 404


def test_the_search_groups_every_active_dentist_by_name(recepcao, dentista, outro):
    DentistaFactory(nome="Carla", ativo=False)
    corpo = recepcao.get("/api/horarios-livres/", {"de": QUINTA, "duracao": 60}).json()
    assert corpo["duracao_minutos"] == 60
    assert [d["nome"] for d in corpo["dentistas"]] == ["Ana", "Bruno"]
    assert all(d["horarios"][-1] == "2026-12-03T11:00:00-03:00" for d in corpo["dentistas"])
    so_um = recepcao.get("/api/horarios-livres/", {"de": QUINTA, "dentista": outro.pk}).json()
    assert [d["dentista"] for d in so_um["dentistas"]] == [outro.pk]


def test_unknown_dentist_is_404_and_no_role_is_403(recepcao, outro):
    assert _livres(recepcao, 999999).status_code == 404
    assert recepcao.get("/api/horarios-livres/", {"dentista": 999999}).status_code == 404
    assert _livres(_cliente("semgrupo", None), outro.pk).status_code == 403
    assert APIClient().get(f"/api/dentistas/{outro.pk}/horarios-livres/").status_code == 401


@pytest.mark.parametrize(
    ("params", "campo", "trecho"),
    [
        ({"de": "03/12/2026"}, "de", "formato"),
        ({"de": QUINTA, "ate": "2026-12-01"}, "ate", "antes"),
        ({"de": QUINTA, "ate": "2027-03-01"}, "ate", "62 dias"),
        ({"duracao": 4}, "duracao", "5"),
        ({"duracao": 481}, "duracao", "480"),
        ({"duracao": "meia hora"}, "duracao", "inteiro"),
        ({"de": "0001-01-01"}, "de", "1900"),
    ],
)
def test_bad_input_is_a_400_by_field_in_portuguese(recepcao, outro, params, campo, trecho):
    resposta = _livres(recepcao, outro.pk, **params)
    assert resposta.status_code == 400, resposta.content
    assert trecho.lower() in " ".join(resposta.json()[campo]).lower()
