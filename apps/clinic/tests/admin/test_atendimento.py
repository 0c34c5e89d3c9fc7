"""The visit-record admin: add = agendamento_finalizar, change = atendimento_atualizar."""

import pytest
from django.utils import timezone

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento, HistoricoStatus

from .apoio import AGORA, DIAGNOSTICO_B, PACIENTE_B, mensagens, texto

pytestmark = pytest.mark.django_db

ADD = "/admin/clinic/atendimento/add/"


def _change(atendimento) -> str:
    return f"/admin/clinic/atendimento/{atendimento.pk}/change/"


def _registro(diagnostico="Cárie no dente 36", tratamento="Restauração em resina", **extra):
    return {"diagnostico": diagnostico, "tratamento_realizado": tratamento, **extra}


def test_the_add_form_offers_a_dentist_only_their_own_open_started_appointments(clinica, como):
    pagina = como(clinica.usuario_a).get(ADD)

    assert pagina.status_code == 200
    oferecidos = {ag.pk for ag in pagina.context["adminform"].form.fields["agendamento"].queryset}
    assert oferecidos == {clinica.a_andamento.pk, clinica.a_vencido.pk}
    # A plain select: no raw-id lookup popup that could list other rows.
    assert "_popup" not in texto(pagina) and "lookup" not in texto(pagina)
    assert PACIENTE_B not in texto(pagina)


def test_a_dentist_closes_their_started_appointment_by_adding_its_record(clinica, como):
    resposta = como(clinica.usuario_a).post(ADD, _registro(agendamento=clinica.a_andamento.pk))

    assert resposta.status_code == 302
    ag = Agendamento.objects.get(pk=clinica.a_andamento.pk)
    assert (ag.status, ag.active) == ("concluido", False)
    registro = ag.atendimento
    assert (registro.origem, registro.diagnostico) == ("manual", "Cárie no dente 36")
    fechamento = ag.historico.get()
    assert (fechamento.status_anterior, fechamento.status_novo) == ("agendado", "concluido")
    assert (fechamento.usuario, fechamento.registrado_em) == (clinica.usuario_a, AGORA)


@pytest.mark.parametrize("alvo", ["b_andamento", "a_cancelado", "a_futuro", "a_concluido"])
def test_a_dentist_cannot_add_a_record_where_the_services_do_not_allow_one(clinica, como, alvo):
    agendamento = getattr(clinica, alvo)
    antes = HistoricoStatus.objects.count()

    resposta = como(clinica.usuario_a).post(ADD, _registro(agendamento=agendamento.pk))

    assert resposta.status_code == 200
    assert "Faça uma escolha válida" in texto(resposta)
    assert HistoricoStatus.objects.count() == antes
    assert Atendimento.objects.count() == 2  # only the fixture's two
    status_antes = agendamento.status
    agendamento.refresh_from_db()
    assert agendamento.status == status_antes


def test_another_dentists_appointment_stays_theirs_to_close_after_an_attempt(clinica, como):
    como(clinica.usuario_a).post(ADD, _registro(agendamento=clinica.b_andamento.pk))

    resposta = como(clinica.usuario_b).post(
        f"/api/agendamentos/{clinica.b_andamento.pk}/finalizar/",
        _registro(),
        content_type="application/json",
    )
    assert resposta.status_code == 201


def test_blank_texts_are_refused_with_the_services_own_messages(clinica, como):
    resposta = como(clinica.usuario_a).post(
        ADD, _registro(diagnostico="   ", tratamento="", agendamento=clinica.a_andamento.pk)
    )

    assert resposta.status_code == 200
    erros = resposta.context["adminform"].form.errors
    assert erros["diagnostico"] == ["Informe o diagnóstico."]
    assert erros["tratamento_realizado"] == ["Informe o tratamento realizado."]
    clinica.a_andamento.refresh_from_db()
    assert clinica.a_andamento.active


def test_a_refusal_of_the_service_after_the_form_checked_is_a_pt_br_form_error(
    clinica, como, monkeypatch
):
    # The receptionist marks the no-show between the form's check and the close.
    fechar = services.agendamento_finalizar

    def outro_fecha_antes(agendamento, **kwargs):
        services.agendamento_marcar_falta(agendamento, usuario=clinica.recepcao, now=AGORA)
        return fechar(agendamento, **kwargs)

    monkeypatch.setattr(services, "agendamento_finalizar", outro_fecha_antes)
    resposta = como(clinica.usuario_a).post(ADD, _registro(agendamento=clinica.a_andamento.pk))

    assert resposta.status_code == 200
    assert resposta.context["adminform"].form.non_field_errors() == [
        "Só um agendamento em aberto pode ser finalizado; a situação atual é “faltou”."
    ]
    assert not Atendimento.objects.filter(agendamento=clinica.a_andamento).exists()


def test_editing_an_automatic_record_marks_it_reviewed_so_reabrir_keeps_it(clinica, como):
    dentista = como(clinica.usuario_a)
    assert dentista.get(_change(clinica.atendimento_a)).status_code == 200

    resposta = dentista.post(_change(clinica.atendimento_a), _registro(diagnostico="Gengivite"))

    assert resposta.status_code == 302
    registro = Atendimento.objects.get(pk=clinica.atendimento_a.pk)
    assert registro.diagnostico == "Gengivite"
    assert (registro.revisado_em, registro.revisado_por) == (AGORA, clinica.usuario_a)
    # Reviewed: undoing the automatic close would delete what the dentist wrote.
    reabrir = dentista.post(
        "/admin/clinic/agendamento/",
        {"action": "reabrir", "_selected_action": [clinica.a_concluido.pk], "index": 0},
        follow=True,
    )
    assert any("ainda não revisado pode ser desfeito" in m for m in mensagens(reabrir))
    assert Atendimento.objects.filter(pk=registro.pk, diagnostico="Gengivite").exists()


def test_a_dentist_cannot_move_their_record_onto_another_appointment(clinica, como):
    dentista = como(clinica.usuario_a)
    for outro in (clinica.b_andamento, clinica.a_andamento, clinica.b_concluido):
        dentista.post(
            _change(clinica.atendimento_a),
            _registro(diagnostico="Gengivite", agendamento=outro.pk),
        )

    registro = Atendimento.objects.get(pk=clinica.atendimento_a.pk)
    assert registro.agendamento_id == clinica.a_concluido.pk
    for aberto in (clinica.b_andamento, clinica.a_andamento):
        aberto.refresh_from_db()
        assert aberto.active and not hasattr(aberto, "atendimento")
        assert not aberto.historico.exists()
    assert Atendimento.objects.get(pk=clinica.atendimento_b.pk).agendamento_id == (
        clinica.b_concluido.pk
    )


def test_another_dentists_record_is_neither_shown_nor_editable(clinica, como):
    dentista = como(clinica.usuario_a)

    pagina = dentista.get(_change(clinica.atendimento_b), follow=True)
    dentista.post(_change(clinica.atendimento_b), _registro(diagnostico="Alterado por A"))

    assert DIAGNOSTICO_B not in texto(pagina) and PACIENTE_B not in texto(pagina)
    assert Atendimento.objects.get(pk=clinica.atendimento_b.pk).diagnostico == DIAGNOSTICO_B


@pytest.mark.parametrize("quem", ["gestor", "superusuario", "usuario_a"])
def test_no_role_deletes_a_visit_record_in_the_admin(clinica, como, quem):
    navegador = como(getattr(clinica, quem))

    pagina = navegador.get(f"/admin/clinic/atendimento/{clinica.atendimento_a.pk}/delete/")
    lista = navegador.get("/admin/clinic/atendimento/")

    assert pagina.status_code == 403
    assert lista.context["action_form"] is None  # no action at all, delete_selected neither
    assert Atendimento.objects.filter(pk=clinica.atendimento_a.pk).exists()


def test_the_receptionist_has_no_access_to_visit_records(clinica, como):
    recepcao = como(clinica.recepcao)

    assert recepcao.get(ADD).status_code == 403
    assert recepcao.get("/admin/clinic/atendimento/").status_code == 403
    assert recepcao.post(ADD, _registro(agendamento=clinica.a_andamento.pk)).status_code == 403
    # Nor on the appointment's page (the record is clinical).
    pagina = recepcao.get(f"/admin/clinic/agendamento/{clinica.b_concluido.pk}/change/")
    assert pagina.status_code == 200 and DIAGNOSTICO_B not in texto(pagina)


@pytest.mark.parametrize("quem", ["gestor", "superusuario"])
def test_the_manager_closes_any_started_appointment_and_edits_any_record(clinica, como, quem):
    gestor = como(getattr(clinica, quem))

    adicionado = gestor.post(ADD, _registro(agendamento=clinica.b_andamento.pk))
    editado = gestor.post(_change(clinica.atendimento_a), _registro(diagnostico="Revisto"))

    assert (adicionado.status_code, editado.status_code) == (302, 302)
    fechamento = clinica.b_andamento.historico.get()
    assert (fechamento.status_novo, fechamento.usuario) == ("concluido", getattr(clinica, quem))
    registro = Atendimento.objects.get(pk=clinica.atendimento_a.pk)
    assert registro.revisado_por == getattr(clinica, quem)


def test_the_appointment_page_shows_its_record_read_only(clinica, como):
    pagina = como(clinica.usuario_b).get(
        f"/admin/clinic/agendamento/{clinica.b_concluido.pk}/change/"
    )

    assert DIAGNOSTICO_B in texto(pagina)
    assert 'name="atendimento-0-diagnostico"' not in texto(pagina)  # no input: read-only


def test_the_appointment_page_is_not_a_second_way_to_write_a_record(clinica, como):
    pagina = f"/admin/clinic/agendamento/{clinica.a_andamento.pk}/change/"
    local = timezone.localtime(clinica.a_andamento.data_hora)
    formulario = {
        "data_hora_0": local.strftime("%d/%m/%Y"),
        "data_hora_1": local.strftime("%H:%M:%S"),
        "duracao_minutos": 30,
        "observacoes": "",
        # An inline visit record, as if the page offered one.
        "atendimento-TOTAL_FORMS": 1,
        "atendimento-INITIAL_FORMS": 0,
        "atendimento-MIN_NUM_FORMS": 0,
        "atendimento-MAX_NUM_FORMS": 1,
        "atendimento-0-diagnostico": "Escrito pela porta lateral",
        "atendimento-0-tratamento_realizado": "Nenhum",
        "atendimento-0-agendamento": clinica.a_andamento.pk,
        "historico-TOTAL_FORMS": 0,
        "historico-INITIAL_FORMS": 0,
    }

    resposta = como(clinica.gestor).post(pagina, formulario)

    assert resposta.status_code == 302  # the appointment's own form was valid
    assert not Atendimento.objects.filter(agendamento=clinica.a_andamento).exists()
    clinica.a_andamento.refresh_from_db()
    assert clinica.a_andamento.active
