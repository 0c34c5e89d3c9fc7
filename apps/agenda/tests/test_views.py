"""The calendar's pages through Django's test client, at the clinic's fixed instant.

``relogio.AGORA`` is Wednesday 2 December 2026, 10:00; "amanhã" is Thursday
the 3rd, where A has Mariana at 09:00 (30 min) and B has Joaquim at 10:00
(45 min). Both dentists work 08-12 and 13-18 every day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.clinic.tests.relogio import AGORA
from apps.expediente.models import Ausencia, Fechamento

from .conftest import as_

pytestmark = pytest.mark.django_db

HOJE = date(2026, 12, 2)
AMANHA = date(2026, 12, 3)


def _mensagens(resposta) -> list[str]:
    return [str(m) for m in get_messages(resposta.wsgi_request)]


def _dia(cliente, dia=AMANHA, **parametros):
    query = "&".join(f"{k}={v}" for k, v in {"dia": dia.isoformat(), **parametros}.items())
    resposta = cliente.get(f"/agenda/?{query}")
    assert resposta.status_code == 200
    return resposta


# --- who gets in -----------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_the_admin_login_with_next(client, clinica):
    resposta = client.get("/agenda/?dia=2026-12-03")
    assert resposta.status_code == 302
    assert resposta["Location"] == "/admin/login/?next=/agenda/%3Fdia%3D2026-12-03"


def test_the_root_leads_staff_to_the_calendar_and_others_to_the_login(client, clinica, como):
    assert client.get("/")["Location"] == "/admin/login/?next=/agenda/"
    assert como(clinica.recepcao).get("/")["Location"] == "/agenda/"
    assert como(clinica.usuario_a).get("/")["Location"] == "/agenda/"
    assert client.head("/")["Location"] == "/admin/login/?next=/agenda/"


def test_a_staff_user_without_a_role_is_refused_everywhere(clinica, como):
    cliente = como(clinica.sem_papel)
    assert cliente.get("/agenda/").status_code == 403
    assert cliente.get("/agenda/agendar/").status_code == 403
    resposta = cliente.post(f"/agenda/agendamentos/{clinica.a_amanha.pk}/confirmar/")
    assert resposta.status_code == 403
    clinica.a_amanha.refresh_from_db()
    assert clinica.a_amanha.status == Agendamento.Status.AGENDADO


def test_the_calendar_shows_today_by_default(clinica, como):
    resposta = como(clinica.recepcao).get("/agenda/")
    assert resposta.context["dia"] == HOJE
    assert "Agenda de quarta-feira, 02/12/2026" in resposta.content.decode()
    # An invalid date falls back to today as well.
    assert como(clinica.recepcao).get("/agenda/?dia=2026-13-45").context["dia"] == HOJE


@pytest.mark.parametrize(
    "dia", ["9999-12-31", "0001-01-01", "9999-12-27", "0001-01-02", "2101-01-01"]
)
@pytest.mark.parametrize("visao", ["", "semana"])
def test_a_date_outside_the_clinics_years_falls_back_to_today(clinica, como, dia, visao):
    # 9999-12-31's "next day" link and 0001-01-01's "previous" overflowed: a 500.
    resposta = como(clinica.recepcao).get(f"/agenda/?dia={dia}&visao={visao}")
    assert resposta.status_code == 200
    assert resposta.context["dia"] == HOJE


@pytest.mark.parametrize("valor", ["%C2%B2", "%E2%91%A0", "%F0%9D%9F%99"])  # ², ①, 𝟙
def test_a_unicode_digit_in_a_number_parameter_is_ignored_not_a_500(clinica, como, valor):
    # str.isdigit() is True for "²", and int("²") raised ValueError.
    cliente = como(clinica.recepcao)
    for url in (
        f"/agenda/?dentista={valor}",
        f"/agenda/?duracao={valor}",
        f"/agenda/agendar/?dentista={valor}&duracao={valor}&inicio=2026-12-03T14:00",
    ):
        assert cliente.get(url).status_code == 200, url
    resposta = cliente.post(
        "/agenda/agendar/",
        f"paciente={valor}&dentista={clinica.dentista_a.pk}&data_hora=2026-12-03T14:00"
        "&duracao_minutos=30",
        content_type="application/x-www-form-urlencoded",
    )
    # "𝟙" is a decimal digit int() reads as 1 (a valid choice); "²" and "①" are not.
    assert resposta.status_code in {302, 400}
    if resposta.status_code == 400:
        assert "paciente" in resposta.context["form"].errors


def test_the_admin_links_to_the_calendar(clinica, como):
    pagina = como(clinica.recepcao).get("/admin/").content.decode()
    assert 'id="modulo-agenda"' in pagina and 'href="/agenda/"' in pagina
    assert 'id="link-agenda"' in como(clinica.recepcao).get("/admin/clinic/").content.decode()


# --- what each role sees ---------------------------------------------------------


def test_the_receptionist_sees_every_dentist_with_confirm_cancel_and_free_slots(clinica, como):
    resposta = _dia(como(clinica.recepcao))
    pagina = resposta.content.decode()
    colunas = [c.dentista for c in resposta.context["grade"].colunas]
    assert colunas == [clinica.dentista_b, clinica.dentista_a]  # by name
    assert "Mariana Costa" in pagina and "Joaquim Reis" in pagina
    acao = f"/agenda/agendamentos/{clinica.a_amanha.pk}/"
    assert f'action="{acao}confirmar/"' in pagina and f'action="{acao}cancelar/"' in pagina
    # No no-show before the start.
    assert f'action="{acao}faltou/"' not in pagina
    # Free starts: A is busy 09:00-09:30, so 08:00 and 09:30 are offered and 09:00 is not.
    coluna_a = resposta.context["grade"].colunas[1]
    horas = [f"{i.astimezone(AGORA.tzinfo):%H:%M}" for i in coluna_a.livres]
    assert "08:00" in horas and "09:30" in horas and "09:00" not in horas
    assert (
        f"/agenda/agendar/?dentista={clinica.dentista_a.pk}&amp;inicio=2026-12-03T08:00" in pagina
    )


def test_a_dentist_sees_only_their_own_column_and_cannot_confirm(clinica, como):
    resposta = _dia(como(clinica.usuario_a))
    pagina = resposta.content.decode()
    assert [c.dentista for c in resposta.context["grade"].colunas] == [clinica.dentista_a]
    assert "Mariana Costa" in pagina and "Joaquim Reis" not in pagina
    assert "/confirmar/" not in pagina and "/cancelar/" not in pagina
    assert "Livre " not in pagina  # a dentist does not book
    assert f"/admin/clinic/agendamento/{clinica.a_amanha.pk}/change/" in pagina
    # The filter cannot widen the view: B's id gives no column.
    resposta = _dia(como(clinica.usuario_a), dentista=clinica.dentista_b.pk)
    assert resposta.context["grade"].colunas == []


def test_a_dentist_may_mark_a_no_show_once_their_appointment_started(clinica, como):
    iniciado = clinica.agendar(clinica.dentista_a, clinica.paciente_a, as_(HOJE, 8))
    pagina = _dia(como(clinica.usuario_a), dia=HOJE).content.decode()
    assert f'action="/agenda/agendamentos/{iniciado.pk}/faltou/"' in pagina


def test_the_manager_sees_everything(clinica, como):
    resposta = _dia(como(clinica.gestor))
    assert len(resposta.context["grade"].colunas) == 2
    assert "/confirmar/" in resposta.content.decode()


def test_a_closure_and_a_holiday_shade_the_day_with_their_reason(clinica, como):
    Fechamento.objects.create(data_inicio=AMANHA, data_fim=AMANHA, descricao="Dedetização")
    resposta = _dia(como(clinica.recepcao))
    coluna = resposta.context["grade"].colunas[0]
    assert coluna.fechado == "clínica fechada: Dedetização" and coluna.livres == []
    assert 'data-motivo="clínica fechada: Dedetização"' in resposta.content.decode()
    natal = _dia(como(clinica.recepcao), dia=date(2026, 12, 25))
    assert "Feriado nacional: Natal" in natal.content.decode()


def test_an_absence_is_shaded_over_its_hours(clinica, como):
    Ausencia.objects.create(
        dentista=clinica.dentista_a,
        tipo=Ausencia.Tipo.FOLGA,
        data_inicio=AMANHA,
        data_fim=AMANHA,
        hora_inicio=as_(AMANHA, 14).timetz().replace(tzinfo=None),
        hora_fim=as_(AMANHA, 16).timetz().replace(tzinfo=None),
    )
    coluna = (
        _dia(como(clinica.recepcao), dentista=clinica.dentista_a.pk).context["grade"].colunas[0]
    )
    # Axis from 07:00: 14:00 is minute 420, two hours long.
    assert [(b.topo, b.altura) for b in coluna.bloqueios] == [(420, 120)]
    assert all(not (14 <= i.astimezone(AGORA.tzinfo).hour < 16) for i in coluna.livres)


def test_blocks_are_placed_by_start_and_duration(clinica, como):
    grade = _dia(como(clinica.recepcao)).context["grade"]
    assert (grade.inicio, grade.fim) == (7 * 60, 20 * 60)
    bloco_b = grade.colunas[0].blocos[0]
    assert (bloco_b.topo, bloco_b.altura) == (180, 45)  # 10:00 on a 07:00 axis, 45 min
    # The axis widens to hold an early appointment (override of the plan).
    cedo = services.agendamento_criar(
        paciente=clinica.paciente_b,
        dentista=clinica.dentista_b,
        data_hora=as_(AMANHA, 6, 30),
        usuario=clinica.gestor,
        now=AGORA,
        permitir_fora_do_expediente=True,
    )
    grade = _dia(como(clinica.recepcao)).context["grade"]
    assert grade.inicio == 6 * 60
    assert grade.colunas[0].blocos[0].agendamento == cedo
    assert grade.colunas[0].blocos[0].topo == 30


def test_a_cancelled_block_and_its_replacement_share_the_slot_side_by_side(clinica, como):
    services.agendamento_cancelar(clinica.a_amanha, usuario=clinica.recepcao, now=AGORA, motivo="x")
    novo = clinica.agendar(clinica.dentista_a, clinica.paciente_b, as_(AMANHA, 9))
    blocos = _dia(como(clinica.recepcao)).context["grade"].colunas[1].blocos
    faixas = {b.agendamento.pk: (b.faixa, b.faixas) for b in blocos}
    assert faixas == {novo.pk: (0, 2), clinica.a_amanha.pk: (1, 2)}


def test_the_week_shows_seven_days_of_one_dentist(clinica, como):
    resposta = _dia(como(clinica.recepcao), visao="semana", dentista=clinica.dentista_a.pk)
    colunas = resposta.context["grade"].colunas
    assert [c.dia for c in colunas] == [date(2026, 11, 30) + timedelta(days=i) for i in range(7)]
    assert {c.dentista for c in colunas} == {clinica.dentista_a}
    assert [b.agendamento for c in colunas for b in c.blocos] == [clinica.a_amanha]
    pagina = resposta.content.decode()
    assert 'href="?dia=2026-11-26&amp;visao=semana&amp;dentista=' in pagina  # previous week
    assert "Semana de 30/11 a 06/12/2026" in pagina


def test_previous_next_and_today_links(clinica, como):
    pagina = _dia(como(clinica.recepcao)).content.decode()
    assert 'href="?dia=2026-12-02" id="anterior"' in pagina
    assert 'href="?dia=2026-12-04" id="proximo"' in pagina
    assert 'href="?dia=2026-12-02" id="hoje"' in pagina


def test_the_page_costs_the_same_queries_for_two_or_twenty_appointments(
    clinica, como, django_assert_max_num_queries
):
    cliente = como(clinica.recepcao)
    with CaptureQueriesContext(connection) as poucos:
        _dia(cliente)
    for minuto in range(0, 18 * 10, 10):
        services.agendamento_criar(
            paciente=PacienteFactory(),
            dentista=clinica.dentista_a,
            data_hora=as_(AMANHA, 13) + timedelta(minutes=minuto),
            duracao_minutos=10,
            now=AGORA,
        )
    with django_assert_max_num_queries(len(poucos)):
        resposta = _dia(cliente)
    assert len(resposta.context["grade"].colunas[1].blocos) == 19
    # Session, user, groups; dentists; four of the working hours; appointments with
    # patients; six of the free slots (disponibilidade's own); the admin header's two
    # of permissions.
    assert len(poucos) <= 17


# --- actions -------------------------------------------------------------------------


def test_the_receptionist_confirms_and_goes_back_to_the_same_page(clinica, como):
    cliente = como(clinica.recepcao)
    volta = "/agenda/?dia=2026-12-03&dentista=1"
    resposta = cliente.post(
        f"/agenda/agendamentos/{clinica.a_amanha.pk}/confirmar/", {"volta": volta}
    )
    assert resposta.status_code == 302 and resposta["Location"] == volta
    clinica.a_amanha.refresh_from_db()
    assert clinica.a_amanha.status == Agendamento.Status.CONFIRMADO
    assert _mensagens(resposta) == [f"Agendamento nº {clinica.a_amanha.pk} (09:00) confirmado."]
    # Again: the service refuses, in pt-BR, and nothing changes.
    resposta = cliente.post(f"/agenda/agendamentos/{clinica.a_amanha.pk}/confirmar/")
    assert resposta["Location"] == "/agenda/?dia=2026-12-03"
    assert "a situação atual é “confirmado”" in _mensagens(resposta)[-1]


def test_an_outside_address_to_go_back_to_is_ignored(clinica, como):
    resposta = como(clinica.recepcao).post(
        f"/agenda/agendamentos/{clinica.a_amanha.pk}/confirmar/",
        {"volta": "https://example.com/"},
    )
    assert resposta["Location"] == "/agenda/?dia=2026-12-03"


def test_cancel_needs_a_reason(clinica, como):
    cliente = como(clinica.recepcao)
    url = f"/agenda/agendamentos/{clinica.b_amanha.pk}/cancelar/"
    resposta = cliente.post(url, {"motivo": "  "})
    assert _mensagens(resposta) == ["Informe o motivo do cancelamento."]
    clinica.b_amanha.refresh_from_db()
    assert clinica.b_amanha.status == Agendamento.Status.AGENDADO
    cliente.post(url, {"motivo": "viagem"})
    clinica.b_amanha.refresh_from_db()
    assert clinica.b_amanha.status == Agendamento.Status.CANCELADO
    assert clinica.b_amanha.historico.last().motivo == "viagem"


@pytest.mark.parametrize(
    ("motivo", "mensagem"),
    [
        ("a" * 10_000, "Certifique-se de que o valor tenha no máximo 500 caracteres"),
        ("ab\x00cd", "Caracteres nulos não são permitidos."),
    ],
)
def test_a_reason_too_long_or_with_a_nul_is_refused_saying_why(clinica, como, motivo, mensagem):
    # Both were answered "Informe o motivo do cancelamento." to a user who had typed one.
    resposta = como(clinica.recepcao).post(
        f"/agenda/agendamentos/{clinica.b_amanha.pk}/cancelar/", {"motivo": motivo}
    )
    (texto,) = _mensagens(resposta)
    assert texto.startswith(mensagem), texto
    clinica.b_amanha.refresh_from_db()
    assert clinica.b_amanha.status == Agendamento.Status.AGENDADO


def test_a_no_show_before_the_start_is_refused_with_the_services_words(clinica, como):
    resposta = como(clinica.recepcao).post(f"/agenda/agendamentos/{clinica.a_amanha.pk}/faltou/")
    assert "Só é possível marcar falta depois do início" in _mensagens(resposta)[0]
    clinica.a_amanha.refresh_from_db()
    assert clinica.a_amanha.status == Agendamento.Status.AGENDADO


def test_a_dentist_is_refused_what_their_role_may_not_do_and_others_rows(clinica, como):
    cliente = como(clinica.usuario_a)
    # The role may not confirm: 403, whoever's appointment it is.
    assert cliente.post(f"/agenda/agendamentos/{clinica.a_amanha.pk}/confirmar/").status_code == 403
    # The role may mark a no-show, but B's appointment is not visible: 404.
    iniciado_b = clinica.agendar(clinica.dentista_b, clinica.paciente_b, as_(HOJE, 8))
    assert cliente.post(f"/agenda/agendamentos/{iniciado_b.pk}/faltou/").status_code == 404
    iniciado_a = clinica.agendar(clinica.dentista_a, clinica.paciente_a, as_(HOJE, 8))
    resposta = cliente.post(f"/agenda/agendamentos/{iniciado_a.pk}/faltou/")
    assert resposta.status_code == 302
    iniciado_a.refresh_from_db()
    iniciado_b.refresh_from_db()
    assert iniciado_a.status == Agendamento.Status.FALTOU
    assert iniciado_b.status == Agendamento.Status.AGENDADO


def test_unknown_actions_and_gets_are_refused(clinica, como):
    cliente = como(clinica.recepcao)
    assert cliente.post(f"/agenda/agendamentos/{clinica.a_amanha.pk}/apagar/").status_code == 404
    assert cliente.get(f"/agenda/agendamentos/{clinica.a_amanha.pk}/confirmar/").status_code == 405
    assert cliente.post("/agenda/agendamentos/999999/confirmar/").status_code == 404


# --- booking ---------------------------------------------------------------------


def _url_agendar(clinica, hora="08:00", duracao=30):
    return (
        f"/agenda/agendar/?dentista={clinica.dentista_a.pk}"
        f"&inicio=2026-12-03T{hora}&duracao={duracao}"
    )


def test_the_booking_page_is_prefilled_from_the_free_slot(clinica, como):
    resposta = como(clinica.recepcao).get(_url_agendar(clinica, duracao=45))
    assert resposta.status_code == 200
    pagina = resposta.content.decode()
    assert 'value="2026-12-03T08:00"' in pagina
    assert f'<option value="{clinica.dentista_a.pk}" selected>' in pagina
    assert '<option value="45" selected>' in pagina
    assert "Dra. Alice · quinta-feira, 03/12/2026 às 08:00 · 45 min" in pagina
    assert "Mariana Costa" in pagina and "Joaquim Reis" in pagina
    # The search narrows the patient list.
    pagina = como(clinica.recepcao).get(_url_agendar(clinica) + "&busca=joaq").content.decode()
    assert "Joaquim Reis" in pagina and "Mariana Costa" not in pagina


def test_booking_creates_the_appointment_and_shows_it_on_that_day(clinica, como):
    cliente = como(clinica.recepcao)
    dados = {
        "paciente": clinica.paciente_b.pk,
        "dentista": clinica.dentista_a.pk,
        "data_hora": "2026-12-03T08:00",
        "duracao_minutos": 30,
        "observacoes": "primeira consulta",
    }
    resposta = cliente.post(_url_agendar(clinica), dados)
    novo = Agendamento.objects.get(dentista=clinica.dentista_a, data_hora=as_(AMANHA, 8))
    assert resposta.status_code == 302
    assert resposta["Location"] == f"/agenda/?dia=2026-12-03#agendamento-{novo.pk}"
    assert novo.paciente == clinica.paciente_b and novo.observacoes == "primeira consulta"
    assert novo.historico.get().usuario == clinica.recepcao
    assert f'id="agendamento-{novo.pk}"' in _dia(cliente).content.decode()

    # The same slot again: the service's words on the start field, nothing saved.
    resposta = cliente.post(_url_agendar(clinica), dados)
    assert resposta.status_code == 400
    assert resposta.context["form"].errors["data_hora"]
    assert 'id="erro-data_hora"' in resposta.content.decode()
    assert Agendamento.objects.filter(dentista=clinica.dentista_a).count() == 2


def test_booking_outside_hours_is_refused_by_field_in_portuguese(clinica, como):
    resposta = como(clinica.recepcao).post(
        _url_agendar(clinica, "12:00"),
        {
            "paciente": clinica.paciente_a.pk,
            "dentista": clinica.dentista_a.pk,
            "data_hora": "2026-12-03T12:00",
            "duracao_minutos": 30,
        },
    )
    assert resposta.status_code == 400
    assert "Fora do expediente" in resposta.context["form"].errors["data_hora"][0]


def test_a_missing_patient_is_a_field_error(clinica, como):
    resposta = como(clinica.recepcao).post(
        _url_agendar(clinica),
        {"dentista": clinica.dentista_a.pk, "data_hora": "2026-12-03T08:00", "duracao_minutos": 30},
    )
    assert resposta.status_code == 400
    assert resposta.context["form"].errors["paciente"] == ["Este campo é obrigatório."]


def test_a_dentist_may_not_book(clinica, como):
    cliente = como(clinica.usuario_a)
    assert cliente.get(_url_agendar(clinica)).status_code == 403
    resposta = cliente.post(
        _url_agendar(clinica),
        {"paciente": clinica.paciente_a.pk, "dentista": clinica.dentista_a.pk,
         "data_hora": "2026-12-03T08:00", "duracao_minutos": 30},
    )  # fmt: skip
    assert resposta.status_code == 403
    assert not Agendamento.objects.filter(data_hora=as_(AMANHA, 8)).exists()


def test_a_dentist_without_a_weekly_plan_is_not_shaded(clinica, como):
    sem_plano = DentistaFactory(nome="Dr. Caio")
    resposta = _dia(como(clinica.recepcao), dentista=sem_plano.pk)
    coluna = resposta.context["grade"].colunas[0]
    assert not coluna.trabalho.planejado and coluna.fechado == ""
    pagina = resposta.content.decode()
    assert "Sem jornada cadastrada." in pagina and 'class="corpo planejado"' not in pagina


def test_a_whole_day_absence_shades_the_column_once_with_its_reason(clinica, como):
    Ausencia.objects.create(
        dentista=clinica.dentista_a,
        tipo=Ausencia.Tipo.FERIAS,
        data_inicio=AMANHA,
        data_fim=AMANHA + timedelta(days=5),
    )
    resposta = _dia(como(clinica.recepcao), dentista=clinica.dentista_a.pk)
    coluna = resposta.context["grade"].colunas[0]
    assert coluna.fechado == "férias" and coluna.livres == []
    # Cut to the axis (07:00-20:00), and its reason written once.
    assert [(b.topo, b.altura) for b in coluna.bloqueios] == [(0, 13 * 60)]
    assert resposta.content.decode().count(">Férias<") == 1


def test_todays_columns_carry_a_line_at_the_current_time(clinica, como):
    resposta = _dia(como(clinica.recepcao), dia=HOJE)
    assert resposta.context["agora_topo"] == 180  # 10:00 on a 07:00 axis
    assert resposta.content.decode().count('class="agora"') == 2
    assert 'class="agora"' not in _dia(como(clinica.recepcao)).content.decode()
