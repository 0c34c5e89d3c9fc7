"""Double booking: the service's check, and PostgreSQL's exclusion constraint under races."""

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

from apps.clinic import services
from apps.clinic.models import Agendamento
from apps.contas.tokens import token_criar

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory

pytestmark = pytest.mark.usefixtures("relogio_parado")

so_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL only"
)


@so_postgresql
@pytest.mark.django_db
def test_the_database_itself_refuses_overlapping_rows_for_one_dentist():
    existente = AgendamentoFactory()
    with pytest.raises(IntegrityError, match="agendamento_sem_sobreposicao"), transaction.atomic():
        Agendamento.objects.bulk_create(
            [
                Agendamento(
                    paciente=existente.paciente,
                    dentista=existente.dentista,
                    data_hora=existente.data_hora + timedelta(minutes=10),
                )
            ]
        )
    # Placeholder times (imported data without a time of day) are left out.
    Agendamento.objects.bulk_create(
        [
            Agendamento(
                paciente=existente.paciente,
                dentista=existente.dentista,
                data_hora=existente.data_hora,
                horario_estimado=True,
            )
        ]
    )


@so_postgresql
@pytest.mark.django_db
def test_a_race_lost_at_the_constraint_is_a_validation_error_not_a_500():
    existente = AgendamentoFactory()
    # As if another request committed between our check and our insert.
    with mock.patch.object(services, "agendamento_em_conflito", return_value=None):
        with pytest.raises(ValidationError) as exc:
            services.agendamento_criar(
                paciente=PacienteFactory(),
                dentista=existente.dentista,
                data_hora=existente.data_hora,
            )
    assert "sobrepõe" in exc.value.message_dict["data_hora"][0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_slot_book_it_exactly_once(live_server):
    usuario = get_user_model().objects.create_user("recepcao-corrida")
    usuario.groups.add(Group.objects.get(name="recepcao"))
    token = token_criar(usuario)
    dentista = DentistaFactory()
    pacientes = [PacienteFactory().pk for _ in range(8)]
    inicio = (timezone.now() + timedelta(days=3)).replace(microsecond=0).isoformat()
    largada = threading.Barrier(len(pacientes))
    respostas: list[tuple[int, dict]] = []

    def reservar(paciente_id: int) -> None:
        corpo = json.dumps(
            {"paciente": paciente_id, "dentista": dentista.pk, "data_hora": inicio}
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

    threads = [threading.Thread(target=reservar, args=(p,)) for p in pacientes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    codigos = sorted(codigo for codigo, _ in respostas)
    assert codigos == [201] + [400] * 7, respostas
    assert all("data_hora" in corpo for codigo, corpo in respostas if codigo == 400)
    assert Agendamento.objects.filter(dentista=dentista).count() == 1
