"""No patient in two places: the service's check, the API, and PostgreSQL's exclusion constraint."""

import importlib
import json
import threading
import urllib.error
import urllib.request
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.contas.tokens import token_criar

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory
from .relogio import AGORA

pytestmark = pytest.mark.usefixtures("relogio_parado")

so_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL only"
)

migracao = importlib.import_module("apps.clinic.migrations.0007_paciente_sem_sobreposicao")

AMANHA_10H = AGORA + timedelta(days=1)


def _mensagem(conflito) -> str:
    """The rule's message naming ``conflito``, booked tomorrow 10:00-10:30."""
    return (
        f"O paciente já tem um agendamento nesse horário (nº {conflito.pk}, "
        "03/12/2026 10:00–10:30)."
    )


def _reservar(paciente, dentista=None, inicio=AMANHA_10H, **extra):
    return services.agendamento_criar(
        paciente=paciente, dentista=dentista or DentistaFactory(), data_hora=inicio, **extra
    )


def _erro(exc) -> str:
    return exc.value.message_dict["data_hora"][0]


@pytest.mark.django_db
def test_a_patient_cannot_be_booked_with_two_dentists_at_the_same_time():
    paciente = PacienteFactory(nome="Nome Sigiloso Da Silva")
    primeiro = _reservar(paciente)

    with pytest.raises(ValidationError) as exc:
        _reservar(paciente, inicio=AMANHA_10H + timedelta(minutes=15))

    # The other appointment by number and time; not the patient, not the other dentist.
    assert _erro(exc) == _mensagem(primeiro)
    assert "Sigiloso" not in _erro(exc) and primeiro.dentista.nome not in _erro(exc)
    assert Agendamento.objects.filter(paciente=paciente).count() == 1


@pytest.mark.django_db
def test_touching_ranges_closed_rows_and_placeholder_times_do_not_conflict():
    paciente = PacienteFactory()
    _reservar(paciente)
    # 10:30-11:00 only touches 10:00-10:30.
    _reservar(paciente, inicio=AMANHA_10H + timedelta(minutes=30))
    # A cancelled appointment frees the patient's time.
    cancelado = _reservar(paciente, inicio=AMANHA_10H + timedelta(hours=2))
    services.agendamento_cancelar(cancelado, usuario=None, now=AGORA, motivo="viagem")
    _reservar(paciente, inicio=AMANHA_10H + timedelta(hours=2))
    # An imported row with a placeholder time is outside the rule.
    AgendamentoFactory(
        paciente=paciente, data_hora=AMANHA_10H + timedelta(hours=4), horario_estimado=True
    )
    _reservar(paciente, inicio=AMANHA_10H + timedelta(hours=4))

    assert Agendamento.objects.filter(paciente=paciente, active=True).count() == 5


@pytest.mark.django_db
def test_rescheduling_onto_another_open_appointment_of_the_patient_is_refused():
    paciente = PacienteFactory()
    primeiro = _reservar(paciente)
    segundo = _reservar(paciente, inicio=AMANHA_10H + timedelta(hours=1))

    with pytest.raises(ValidationError) as exc:
        services.agendamento_reagendar(
            segundo, usuario=None, now=AGORA, data_hora=AMANHA_10H + timedelta(minutes=20)
        )
    assert f"nº {primeiro.pk}," in _erro(exc)
    # A longer first appointment would run into the second.
    with pytest.raises(ValidationError) as exc:
        services.agendamento_reagendar(primeiro, usuario=None, now=AGORA, duracao_minutos=90)
    assert f"nº {segundo.pk}," in _erro(exc)
    # Its own time does not count against it.
    services.agendamento_reagendar(segundo, usuario=None, now=AGORA, duracao_minutos=45)
    segundo.refresh_from_db()
    assert (segundo.data_hora, segundo.duracao_minutos) == (AMANHA_10H + timedelta(hours=1), 45)


@pytest.mark.django_db
def test_reopening_an_automatic_close_is_refused_when_the_patient_was_booked_meanwhile():
    paciente = PacienteFactory()
    passado = AgendamentoFactory(paciente=paciente, data_hora=AGORA - timedelta(hours=2))
    assert services.executar_finalizacao(passado, now=AGORA) is not None
    # Booked (back-dated) over the concluded one: concluded rows do not hold the patient.
    outro = _reservar(paciente, inicio=passado.data_hora, permitir_retroativo=True)

    with pytest.raises(ValidationError) as exc:
        services.agendamento_reabrir(passado, usuario=None, now=AGORA)

    assert f"nº {outro.pk}," in _erro(exc)
    passado.refresh_from_db()
    assert passado.status == "concluido" and hasattr(passado, "atendimento")


@pytest.mark.django_db
def test_the_api_answers_400_on_data_hora():
    usuario = get_user_model().objects.create_user("recepcao-paciente")
    usuario.groups.add(Group.objects.get(name="recepcao"))
    cliente = APIClient()
    cliente.force_authenticate(usuario)
    paciente = PacienteFactory()
    primeiro = _reservar(paciente)

    resposta = cliente.post(
        "/api/agendamentos/",
        {
            "paciente": paciente.pk,
            "dentista": DentistaFactory().pk,
            "data_hora": "2026-12-03T10:10:00",
        },
        format="json",
    )

    assert resposta.status_code == 400, resposta.content
    assert resposta.json()["data_hora"] == [_mensagem(primeiro)]


@pytest.mark.django_db
def test_the_admin_form_shows_the_rule_on_data_hora(client):
    usuario = get_user_model().objects.create_user("recepcao-admin", is_staff=True)
    usuario.groups.add(Group.objects.get(name="recepcao"))
    client.force_login(usuario)
    paciente = PacienteFactory()
    primeiro = _reservar(paciente)

    resposta = client.post(
        "/admin/clinic/agendamento/add/",
        {
            "paciente": paciente.pk,
            "dentista": DentistaFactory().pk,
            "duracao_minutos": 30,
            "observacoes": "",
            "data_hora_0": "03/12/2026",
            "data_hora_1": "10:15:00",
            **{
                f"{p}-{c}": 0
                for p in ("atendimento", "historico")
                for c in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )

    assert resposta.status_code == 200
    erros = resposta.context["adminform"].form.errors
    assert erros["data_hora"] == [_mensagem(primeiro)]
    assert Agendamento.objects.filter(paciente=paciente).count() == 1


@so_postgresql
@pytest.mark.django_db
def test_the_database_itself_refuses_overlapping_open_rows_for_one_patient():
    existente = AgendamentoFactory()
    sobreposto = Agendamento(
        paciente=existente.paciente,
        dentista=DentistaFactory(),
        data_hora=existente.data_hora + timedelta(minutes=10),
    )
    with (
        pytest.raises(IntegrityError, match="agendamento_paciente_sem_sobreposicao"),
        transaction.atomic(),
    ):
        Agendamento.objects.bulk_create([sobreposto])
    # Closed rows and placeholder times are left out.
    Agendamento.objects.bulk_create(
        [
            Agendamento(
                paciente=existente.paciente,
                dentista=DentistaFactory(),
                data_hora=existente.data_hora,
                status="cancelado",
                active=False,
            ),
            Agendamento(
                paciente=existente.paciente,
                dentista=DentistaFactory(),
                data_hora=existente.data_hora,
                horario_estimado=True,
            ),
        ]
    )


@so_postgresql
@pytest.mark.django_db
def test_a_race_lost_at_the_patients_constraint_is_the_same_400():
    existente = AgendamentoFactory()
    # As if another request committed between our check and our insert.
    with mock.patch.object(services, "agendamento_do_paciente_em_conflito", return_value=None):
        with pytest.raises(ValidationError) as exc:
            _reservar(existente.paciente, inicio=existente.data_hora)
        # Reopening too: the UPDATE meets the constraint.
        passado = AgendamentoFactory(
            paciente=PacienteFactory(), data_hora=AGORA - timedelta(hours=2)
        )
        services.executar_finalizacao(passado, now=AGORA)
        _reservar(passado.paciente, inicio=passado.data_hora, permitir_retroativo=True)
        with pytest.raises(ValidationError) as exc_reabrir:
            services.agendamento_reabrir(passado, usuario=None, now=AGORA)
    esperado = "O paciente já tem outro agendamento que se sobrepõe a este horário."
    assert _erro(exc) == esperado
    assert _erro(exc_reabrir) == esperado


@so_postgresql
@pytest.mark.django_db
def test_the_migration_stops_on_existing_overlaps_and_lists_the_pairs_by_id():
    with connection.cursor() as cursor:
        cursor.execute(migracao.REMOVER_EXCLUSAO)  # rolled back with the test's transaction
    paciente = PacienteFactory(nome="Nome Que Nao Pode Aparecer")
    a = AgendamentoFactory(paciente=paciente)
    b = AgendamentoFactory(paciente=paciente, data_hora=a.data_hora + timedelta(minutes=10))
    # Another patient's lone row and a placeholder time are not pairs.
    AgendamentoFactory(data_hora=a.data_hora)
    AgendamentoFactory(paciente=paciente, data_hora=a.data_hora, horario_estimado=True)

    with (
        pytest.raises(migracao.PacienteEmDoisLugares) as exc,
        connection.schema_editor() as editor,
    ):
        migracao.exclusao_criar(None, editor)

    mensagem = str(exc.value)
    assert f"Appointment ids: {a.pk} & {b.pk}." in mensagem
    assert "1 pair(s)" in mensagem and "cancel or reschedule" in mensagem
    assert "Nome" not in mensagem
    # Fixed (one of the pair cancelled), the migration adds the constraint.
    services.agendamento_cancelar(b, usuario=None, now=AGORA, motivo="duplicado")
    with connection.cursor() as cursor:
        # The test's inserts left deferred foreign-key checks, which ALTER TABLE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with connection.schema_editor() as editor:
        migracao.exclusao_criar(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [migracao.NOME])
        assert cursor.fetchone() == (1,)


def test_the_migrations_message_lists_at_most_fifty_pairs():
    mensagem = migracao.mensagem_pares([(i, i + 1) for i in range(1, 121)])
    assert "120 pair(s)" in mensagem and "50 & 51" in mensagem and "51 & 52" not in mensagem
    assert "(and 70 more)" in mensagem


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_patient_book_them_exactly_once(live_server):
    usuario = get_user_model().objects.create_user("recepcao-corrida-paciente")
    usuario.groups.add(Group.objects.get(name="recepcao"))
    token = token_criar(usuario)
    paciente = PacienteFactory()
    dentistas = [DentistaFactory().pk for _ in range(8)]
    inicio = (timezone.now() + timedelta(days=3)).replace(microsecond=0).isoformat()
    largada = threading.Barrier(len(dentistas))
    respostas: list[tuple[int, dict]] = []

    def reservar(dentista_id: int) -> None:
        corpo = json.dumps(
            {"paciente": paciente.pk, "dentista": dentista_id, "data_hora": inicio}
        ).encode()
        pedido = urllib.request.Request(
            f"{live_server.url}/api/agendamentos/",
            data=corpo,
            headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
        )
        largada.wait()
        try:
            with urllib.request.urlopen(pedido, timeout=30) as r:
                respostas.append((r.status, json.loads(r.read())))
        except urllib.error.HTTPError as erro:
            respostas.append((erro.code, json.loads(erro.read())))

    threads = [threading.Thread(target=reservar, args=(d,)) for d in dentistas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    codigos = sorted(codigo for codigo, _ in respostas)
    assert codigos == [201] + [400] * 7, respostas
    assert all("O paciente já tem" in corpo["data_hora"][0] for c, corpo in respostas if c == 400)
    assert Agendamento.objects.filter(paciente=paciente).count() == 1
