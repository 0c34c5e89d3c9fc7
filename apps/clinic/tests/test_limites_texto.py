"""Free texts have one set of limits (models.LIMITE_*), held by every door: the model,
the admin's forms, the API and the No-Show import (issue 9, item 6)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from rest_framework.test import APIClient

from apps.clinic.importacao import importar_noshow
from apps.clinic.models import (
    LIMITE_MOTIVO,
    LIMITE_OBSERVACOES,
    LIMITE_TEXTO_CLINICO,
    Agendamento,
    Atendimento,
    Paciente,
)

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory

pytestmark = pytest.mark.django_db

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
AGORA = datetime(2026, 12, 2, 10, 0, tzinfo=SAO_PAULO)
DAQUI_A_UMA_SEMANA = AGORA + timedelta(days=7)
CABECALHO = (
    "PatientId,AppointmentID,Gender,ScheduledDay,AppointmentDay,Age,Neighbourhood,"
    "Scholarship,Hipertension,Diabetes,Alcoholism,Handcap,SMS_received,No-show\n"
)


@pytest.fixture(autouse=True)
def relogio():
    with time_machine.travel(AGORA, tick=False):
        yield


def _cliente(grupo: str, usuario=None) -> APIClient:
    usuario = usuario or get_user_model().objects.create_user(f"{grupo}-limites")
    usuario.groups.add(Group.objects.get(name=grupo))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    return cliente


def _mensagem(limite: int) -> str:
    return f"Use no máximo {limite} caracteres."


def test_the_limits_fit_a_clinic():
    assert (LIMITE_OBSERVACOES, LIMITE_TEXTO_CLINICO, LIMITE_MOTIVO) == (2000, 5000, 500)


# --- The API ------------------------------------------------------------------


def test_notes_over_the_limit_are_refused_when_booking_and_rescheduling():
    recepcao = _cliente("recepcao")
    ag = AgendamentoFactory(data_hora=DAQUI_A_UMA_SEMANA)
    corpo = {
        "paciente": PacienteFactory().pk,
        "dentista": DentistaFactory().pk,
        "data_hora": DAQUI_A_UMA_SEMANA.isoformat(),
        "observacoes": "x" * (LIMITE_OBSERVACOES + 1),
    }

    criar = recepcao.post("/api/agendamentos/", corpo, format="json")
    reagendar = recepcao.patch(
        f"/api/agendamentos/{ag.pk}/", {"observacoes": corpo["observacoes"]}, format="json"
    )

    for resposta in (criar, reagendar):
        assert resposta.status_code == 400
        assert resposta.json() == {"observacoes": [_mensagem(LIMITE_OBSERVACOES)]}
    assert Agendamento.objects.get().observacoes == ""


def test_notes_at_the_limit_are_accepted():
    recepcao = _cliente("recepcao")
    corpo = {
        "paciente": PacienteFactory().pk,
        "dentista": DentistaFactory().pk,
        "data_hora": DAQUI_A_UMA_SEMANA.isoformat(),
        "observacoes": "x" * LIMITE_OBSERVACOES,
    }

    assert recepcao.post("/api/agendamentos/", corpo, format="json").status_code == 201


def test_a_reason_to_cancel_or_reopen_over_the_limit_is_refused():
    recepcao = _cliente("recepcao")
    ag = AgendamentoFactory(data_hora=DAQUI_A_UMA_SEMANA)

    resposta = recepcao.post(
        f"/api/agendamentos/{ag.pk}/cancelar/",
        {"motivo": "x" * (LIMITE_MOTIVO + 1)},
        format="json",
    )

    assert resposta.status_code == 400
    assert resposta.json() == {"motivo": [_mensagem(LIMITE_MOTIVO)]}


def test_a_diagnosis_or_treatment_over_the_limit_is_refused_on_every_path():
    usuario = get_user_model().objects.create_user("dra-limites")
    dentista = _cliente("dentista", usuario)
    ag = AgendamentoFactory(
        data_hora=AGORA - timedelta(minutes=10), dentista=DentistaFactory(usuario=usuario)
    )
    longo = "x" * (LIMITE_TEXTO_CLINICO + 1)

    finalizar = dentista.post(
        f"/api/agendamentos/{ag.pk}/finalizar/",
        {"diagnostico": longo, "tratamento_realizado": "ok"},
        format="json",
    )
    criar = dentista.post(
        "/api/atendimentos/",
        {"agendamento": ag.pk, "diagnostico": "ok", "tratamento_realizado": longo},
        format="json",
    )

    assert finalizar.json() == {"diagnostico": [_mensagem(LIMITE_TEXTO_CLINICO)]}
    assert criar.json() == {"tratamento_realizado": [_mensagem(LIMITE_TEXTO_CLINICO)]}
    assert not Atendimento.objects.exists()

    registro = dentista.post(
        f"/api/agendamentos/{ag.pk}/finalizar/",
        {"diagnostico": "ok", "tratamento_realizado": "ok"},
        format="json",
    ).json()
    editar = dentista.patch(
        f"/api/atendimentos/{registro['id']}/", {"diagnostico": longo}, format="json"
    )
    assert editar.json() == {"diagnostico": [_mensagem(LIMITE_TEXTO_CLINICO)]}


def test_a_name_over_the_limit_is_refused_for_patients_and_dentists():
    recepcao, gestor = _cliente("recepcao"), _cliente("gestor")

    paciente = recepcao.post("/api/pacientes/", {"nome": "x" * 201}, format="json")
    dentista = gestor.post("/api/dentistas/", {"nome": "x" * 201}, format="json")

    assert paciente.json() == dentista.json() == {"nome": [_mensagem(200)]}


# --- The model and the admin's forms ------------------------------------------


@pytest.mark.parametrize(
    ("modelo", "campo", "limite"),
    [
        (Agendamento, "observacoes", LIMITE_OBSERVACOES),
        (Atendimento, "diagnostico", LIMITE_TEXTO_CLINICO),
        (Atendimento, "tratamento_realizado", LIMITE_TEXTO_CLINICO),
    ],
)
def test_full_clean_and_the_model_forms_hold_the_same_limit(modelo, campo, limite):
    with pytest.raises(ValidationError) as erro:
        modelo._meta.get_field(campo).clean("x" * (limite + 1), None)
    assert "no máximo" in erro.value.messages[0] and str(limite) in erro.value.messages[0]

    formulario = modelform_factory(modelo, fields=[campo])({campo: "x" * (limite + 1)})
    assert not formulario.is_valid()
    assert str(limite) in formulario.errors[campo][0]
    assert formulario.fields[campo].widget.attrs["maxlength"] == str(limite)


def test_the_admin_refuses_notes_over_the_limit():
    admin = get_user_model().objects.create_superuser("admin-limites", "a@example.com", None)
    cliente = APIClient()
    cliente.force_login(admin)
    ag = AgendamentoFactory(data_hora=DAQUI_A_UMA_SEMANA)

    resposta = cliente.post(
        f"/admin/clinic/agendamento/{ag.pk}/change/",
        {
            "paciente": ag.paciente_id,
            "dentista": ag.dentista_id,
            "data_hora_0": DAQUI_A_UMA_SEMANA.strftime("%d/%m/%Y"),
            "data_hora_1": DAQUI_A_UMA_SEMANA.strftime("%H:%M:%S"),
            "duracao_minutos": 30,
            "observacoes": "x" * (LIMITE_OBSERVACOES + 1),
            "status": "agendado",
        },
    )

    assert resposta.status_code == 200  # the form again, with its errors
    assert f"no máximo {LIMITE_OBSERVACOES} caracteres" in resposta.content.decode()
    assert Agendamento.objects.get().observacoes == ""


# --- The import ---------------------------------------------------------------


def test_the_import_skips_an_id_over_the_column_limit_naming_the_limit(tmp_path):
    arquivo = tmp_path / "longo.csv"
    linha = "{pid},{aid},F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,30,CENTRO,0,0,0,0,0,0,No\n"
    arquivo.write_text(
        CABECALHO
        + linha.format(pid="1" * 65, aid="900001")
        + linha.format(pid="12", aid="9" * 65)
        + linha.format(pid="13", aid="900003"),
        encoding="utf-8",
    )

    resultado = importar_noshow(arquivo, now=AGORA)

    assert [(r.linha, r.coluna, r.motivo) for r in resultado.rejeicoes] == [
        (2, "PatientId", "longo demais (no máximo 64 caracteres)"),
        (3, "AppointmentID", "longo demais (no máximo 64 caracteres)"),
    ]
    assert list(Agendamento.objects.values_list("id_externo", flat=True)) == ["900003"]
    assert Paciente.objects.get().nome == "Paciente 13"


def test_the_import_refuses_a_dentist_name_over_the_limit(tmp_path):
    arquivo = tmp_path / "vazio.csv"
    arquivo.write_text(CABECALHO, encoding="utf-8")

    with pytest.raises(ValueError, match="at most 200 characters"):
        importar_noshow(arquivo, now=AGORA, dentista_nome="x" * 201)
