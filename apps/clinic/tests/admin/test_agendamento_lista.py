"""The appointment list: opens on today, newest first, status badge, names, by role (12.4)."""

from datetime import timedelta

import pytest

from ..factories import AgendamentoFactory
from .apoio import AGORA, PACIENTE_A, PACIENTE_B, texto

pytestmark = pytest.mark.django_db

LISTA = "/admin/clinic/agendamento/"


def _ids(resposta) -> list[int]:
    return [ag.pk for ag in resposta.context["cl"].result_list]


def _hoje(c, *nomes) -> list[int]:
    """``nomes``' ids, newest first (the list's order)."""
    linhas = sorted((getattr(c, n) for n in nomes), key=lambda a: (a.data_hora, a.pk))
    return [a.pk for a in reversed(linhas)]


HOJE_DE_A = ["a_andamento", "a_cancelado", "a_vencido", "a_concluido"]
HOJE_DE_B = ["b_andamento", "b_concluido"]


def test_the_list_opens_on_today_newest_first(clinica, como):
    resposta = como(clinica.gestor).get(LISTA)

    assert resposta.status_code == 200
    assert _ids(resposta) == _hoje(clinica, *HOJE_DE_A, *HOJE_DE_B)
    # The future appointments (in two days) wait for their day.
    assert clinica.a_futuro.pk not in _ids(resposta)
    # "Hoje" is the filter's selected choice, and the list shows 100 rows a page.
    dia = next(f for f in resposta.context["cl"].filter_specs if f.parameter_name == "dia")
    assert [c["display"] for c in dia.choices(resposta.context["cl"]) if c["selected"]] == ["Hoje"]
    assert resposta.context["cl"].list_per_page == 100


def test_tomorrow_the_next_seven_days_and_every_day(clinica, como):
    gestor = como(clinica.gestor)
    amanha = AgendamentoFactory(
        dentista=clinica.dentista_a,
        paciente=clinica.paciente_a,
        data_hora=AGORA + timedelta(days=1),
    )
    # 7 days from today is outside "the next 7 days" (today and the six after it).
    longe = AgendamentoFactory(
        dentista=clinica.dentista_a,
        paciente=clinica.paciente_a,
        data_hora=AGORA + timedelta(days=7),
    )

    assert _ids(gestor.get(LISTA, {"dia": "amanha"})) == [amanha.pk]
    semana = _ids(gestor.get(LISTA, {"dia": "7dias"}))
    assert semana[:3] == [clinica.b_futuro.pk, clinica.a_futuro.pk, amanha.pk]
    assert longe.pk not in semana and set(_hoje(clinica, *HOJE_DE_A, *HOJE_DE_B)) <= set(semana)
    todos = _ids(gestor.get(LISTA, {"dia": "todos"}))
    assert todos[0] == longe.pk and len(todos) == len(semana) + 1


def test_a_search_or_a_date_drill_down_looks_at_every_day(clinica, como):
    gestor = como(clinica.gestor)

    busca = _ids(gestor.get(LISTA, {"q": PACIENTE_A}))
    dia = _ids(
        gestor.get(LISTA, {"data_hora__year": 2026, "data_hora__month": 12, "data_hora__day": 4})
    )

    assert clinica.a_futuro.pk in busca and clinica.a_andamento.pk in busca
    assert sorted(dia) == sorted([clinica.a_futuro.pk, clinica.b_futuro.pk])


def test_each_row_shows_a_coloured_status_badge_and_the_names(clinica, como):
    pagina = texto(como(clinica.recepcao).get(LISTA))

    assert "background:#dbeafe;color:#1e3a8a" in pagina  # agendado
    assert ">Agendado</span>" in pagina and ">Cancelado</span>" in pagina
    assert ">Concluído</span>" in pagina
    assert PACIENTE_A in pagina and PACIENTE_B in pagina and "Dra. Alice" in pagina
    assert "02/12/2026 09:50–10:20" in pagina  # a_andamento, in the clinic's zone
    # The status is the second column, right after the number.
    cabecalhos = [c["text"] for c in como(clinica.recepcao).get(LISTA).context["result_headers"]]
    assert [str(c) for c in cabecalhos[1:]] == [
        "ID",
        "situação",
        "horário",
        "paciente",
        "dentista",
        "min",
    ]


def test_a_dentists_list_of_today_has_only_their_own_rows_and_their_actions(clinica, como):
    resposta = como(clinica.usuario_a).get(LISTA)

    assert _ids(resposta) == _hoje(clinica, *HOJE_DE_A)
    assert PACIENTE_B not in texto(resposta)
    oferecidas = {n for n, _r in resposta.context["action_form"].fields["action"].choices} - {""}
    assert oferecidas == {"marcar_falta", "finalizar_vencidos", "reabrir"}


@pytest.mark.parametrize(
    ("quem", "acoes"),
    [
        ("recepcao", {"confirmar", "cancelar", "marcar_falta"}),
        ("gestor", {"confirmar", "cancelar", "marcar_falta", "finalizar_vencidos", "reabrir"}),
    ],
)
def test_the_front_desk_and_the_manager_see_today_and_their_actions(clinica, como, quem, acoes):
    resposta = como(getattr(clinica, quem)).get(LISTA)

    assert _ids(resposta) == _hoje(clinica, *HOJE_DE_A, *HOJE_DE_B)
    oferecidas = {n for n, _r in resposta.context["action_form"].fields["action"].choices} - {""}
    assert oferecidas == acoes


def test_an_action_on_the_default_list_reaches_todays_row(clinica, como):
    resposta = como(clinica.recepcao).post(
        LISTA,
        {"action": "marcar_falta", "_selected_action": [clinica.a_vencido.pk], "index": 0},
        follow=True,
    )

    assert resposta.status_code == 200
    clinica.a_vencido.refresh_from_db()
    assert clinica.a_vencido.status == "faltou"


def test_every_admin_page_names_the_clinic_not_django(clinica, como, settings):
    resposta = como(clinica.recepcao).get(LISTA)
    pagina = resposta.content.decode()
    assert settings.CLINICA_NOME in pagina
    assert "Administração do Django" not in pagina
    assert "Django administration" not in pagina
