"""The appointment admin's actions: the API's transitions, for the roles the API allows."""

from datetime import timedelta

import pytest

from apps.clinic import services
from apps.clinic.models import Agendamento, Atendimento, HistoricoStatus

from ..factories import AgendamentoFactory
from .apoio import ACAO_RECUSADA, AGORA, PACIENTE_A, PACIENTE_B, mensagens, texto

pytestmark = pytest.mark.django_db

# Every day: the list opens on today, and these rows span several.
LISTA = "/admin/clinic/agendamento/?dia=todos"

ACOES_POR_PAPEL = {
    "gestor": {"confirmar", "cancelar", "marcar_falta", "finalizar_vencidos", "reabrir"},
    "superusuario": {"confirmar", "cancelar", "marcar_falta", "finalizar_vencidos", "reabrir"},
    "recepcao": {"confirmar", "cancelar", "marcar_falta"},
    "usuario_a": {"marcar_falta", "finalizar_vencidos", "reabrir"},
}


def _acao(navegador, acao, *agendamentos, **extra):
    return navegador.post(
        LISTA,
        {"action": acao, "_selected_action": [ag.pk for ag in agendamentos], "index": 0, **extra},
        follow=True,
    )


def _status(agendamento) -> str:
    return Agendamento.objects.get(pk=agendamento.pk).status


@pytest.mark.parametrize("quem", ACOES_POR_PAPEL)
def test_each_role_is_offered_exactly_the_transitions_the_api_allows_it(clinica, como, quem):
    lista = como(getattr(clinica, quem)).get(LISTA)

    oferecidas = {nome for nome, _rotulo in lista.context["action_form"].fields["action"].choices}
    assert oferecidas - {""} == ACOES_POR_PAPEL[quem]


@pytest.mark.parametrize(
    ("quem", "acao", "alvo"),
    [
        ("recepcao", "finalizar_vencidos", "a_vencido"),
        ("recepcao", "reabrir", "a_concluido"),
        ("usuario_a", "confirmar", "a_futuro"),
        ("usuario_a", "cancelar", "a_futuro"),
        ("gestor", "delete_selected", "a_futuro"),
    ],
)
def test_an_action_a_role_may_not_do_is_refused_when_posted_anyway(clinica, como, quem, acao, alvo):
    agendamento = getattr(clinica, alvo)
    status_antes, historico_antes = agendamento.status, HistoricoStatus.objects.count()

    resposta = _acao(como(getattr(clinica, quem)), acao, agendamento, motivo="x", post="sim")

    assert ACAO_RECUSADA in mensagens(resposta)
    assert _status(agendamento) == status_antes
    assert HistoricoStatus.objects.count() == historico_antes
    assert Agendamento.objects.filter(pk=agendamento.pk).exists()


def test_the_receptionist_confirms_and_is_told_which_were_refused_and_why(clinica, como):
    services.agendamento_confirmar(clinica.b_futuro, usuario=clinica.gestor, now=AGORA)

    resposta = _acao(como(clinica.recepcao), "confirmar", clinica.a_futuro, clinica.b_futuro)

    assert _status(clinica.a_futuro) == "confirmado"
    linha = clinica.a_futuro.historico.get()
    assert (linha.status_novo, linha.usuario, linha.registrado_em) == (
        "confirmado",
        clinica.recepcao,
        AGORA,
    )
    assert mensagens(resposta) == [
        "1 agendamento confirmado.",
        f"Agendamento nº {clinica.b_futuro.pk} não foi alterado: Só um agendamento na situação "
        "“agendado” pode ser confirmado; a situação atual é “confirmado”.",
    ]
    # Refusals name the appointment by number, never the patient.
    assert PACIENTE_B not in " ".join(mensagens(resposta))


def test_cancelling_asks_the_reason_on_a_page_of_its_own_first(clinica, como):
    recepcao = como(clinica.recepcao)

    pagina = _acao(recepcao, "cancelar", clinica.a_futuro)
    sem_motivo = _acao(recepcao, "cancelar", clinica.a_futuro, post="sim", motivo="  ")

    assert pagina.status_code == 200
    assert 'name="motivo"' in texto(pagina)
    assert f"Agendamento nº {clinica.a_futuro.pk}" in texto(pagina)
    assert PACIENTE_A not in texto(pagina)
    assert "Este campo é obrigatório." in texto(sem_motivo)
    assert _status(clinica.a_futuro) == "agendado"


def test_cancelling_with_a_reason_records_it_and_marks_late_ones(clinica, como):
    amanha_cedo = AgendamentoFactory(
        dentista=clinica.dentista_b,
        paciente=clinica.paciente_b,
        data_hora=AGORA + timedelta(hours=20),
    )

    resposta = _acao(
        como(clinica.recepcao),
        "cancelar",
        clinica.a_futuro,
        amanha_cedo,
        clinica.a_cancelado,
        post="sim",
        motivo="Paciente pediu para remarcar",
    )

    assert _status(clinica.a_futuro) == _status(amanha_cedo) == "cancelado"
    linha = clinica.a_futuro.historico.get()
    assert (linha.motivo, linha.usuario) == ("Paciente pediu para remarcar", clinica.recepcao)
    tardio = Agendamento.objects.get(pk=amanha_cedo.pk)
    assert tardio.cancelamento_tardio
    assert tardio.historico.get().motivo.endswith("[cancelamento tardio]")
    assert mensagens(resposta)[0] == "2 agendamentos cancelados."
    assert f"Agendamento nº {clinica.a_cancelado.pk} não foi alterado" in mensagens(resposta)[1]


def test_a_dentist_marks_a_no_show_only_on_their_own_started_appointments(clinica, como):
    resposta = _acao(como(clinica.usuario_a), "marcar_falta", clinica.a_andamento, clinica.a_futuro)
    alheio = _acao(como(clinica.usuario_a), "marcar_falta", clinica.b_andamento)

    assert _status(clinica.a_andamento) == "faltou"
    assert clinica.a_andamento.historico.get().usuario == clinica.usuario_a
    assert _status(clinica.a_futuro) == "agendado"
    assert mensagens(resposta)[0] == "1 agendamento marcado como falta."
    assert "Só é possível marcar falta depois do início" in mensagens(resposta)[1]
    # Another dentist's row is not in the dentist's selection at all.
    assert _status(clinica.b_andamento) == "agendado"
    assert not clinica.b_andamento.historico.exists()
    assert PACIENTE_B not in texto(alheio)


def test_closing_ended_appointments_records_the_dentist_as_the_actor(clinica, como):
    resposta = _acao(
        como(clinica.usuario_a), "finalizar_vencidos", clinica.a_vencido, clinica.a_andamento
    )

    assert _status(clinica.a_vencido) == "concluido"
    assert clinica.a_vencido.historico.get(status_novo="concluido").usuario == clinica.usuario_a
    assert Atendimento.objects.get(agendamento=clinica.a_vencido).origem == "automatico"
    # In progress: never closed.
    assert _status(clinica.a_andamento) == "agendado"
    assert mensagens(resposta)[0] == "1 agendamento finalizado."
    assert f"Agendamento nº {clinica.a_andamento.pk} não foi alterado" in mensagens(resposta)[1]


def test_the_manager_undoes_an_automatic_close_from_the_admin(clinica, como):
    resposta = _acao(como(clinica.gestor), "reabrir", clinica.a_concluido, clinica.b_concluido)

    assert _status(clinica.a_concluido) == "agendado"
    assert not Atendimento.objects.filter(agendamento=clinica.a_concluido).exists()
    assert clinica.a_concluido.historico.order_by("id").last().usuario == clinica.gestor
    # B's record was written by B (manual): kept.
    assert _status(clinica.b_concluido) == "concluido"
    assert mensagens(resposta) == [
        "1 agendamento reaberto.",
        f"Agendamento nº {clinica.b_concluido.pk} não foi alterado: Só um fechamento "
        "automático ainda não revisado pode ser desfeito.",
    ]
