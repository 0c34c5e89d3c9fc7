"""Import of the "Medical Appointment No Shows" CSV (apps/clinic/importacao.py).

The fixture ``fixtures/noshow_amostra.csv`` is hand-made in the real file's
format; by line (the header is line 1):

     2  patient A, 2016-04-29, No                       -> agendado
     3  patient A again, 2016-05-03, Yes                -> faltou
     4  PatientId in scientific notation, No            -> agendado, warning
     5  Age -1, No                                      -> agendado, warning
     6  ScheduledDay after AppointmentDay, Yes          -> faltou, warning
     7  AppointmentDay 2016-02-30                       -> rejected
     8  no AppointmentID                                -> rejected
     9  No-show "Maybe" (AppointmentID 5626772)         -> rejected
    10  Handcap 2, Yes                                  -> faltou, warning
    11  plain, No                                       -> agendado
    12  Age 115, No                                     -> agendado, warning
    13  no PatientId                                    -> rejected
    14  plain, No                                       -> agendado
    15  repeats line 2's AppointmentID                  -> skipped, warning
    16  plain, Yes                                      -> faltou
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from io import StringIO
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.clinic.importacao import DENTISTA_PADRAO, ArquivoInvalido, importar_noshow
from apps.clinic.models import Agendamento, Atendimento, Dentista, HistoricoStatus, Paciente
from apps.clinic.services import finalizar_agendamentos_vencidos

pytestmark = pytest.mark.django_db

AMOSTRA = Path(__file__).parent / "fixtures" / "noshow_amostra.csv"
ARQUIVO_REAL = settings.BASE_DIR.parent / "shared" / "data" / "KaggleV2-May-2016.csv"
SP = ZoneInfo("America/Sao_Paulo")
AGORA = datetime(2026, 1, 15, 12, 0, tzinfo=SP)
IDS_PACIENTES_AMOSTRA = (
    "29872499824296",
    "9377952927E-5",
    "558997776694438",
    "4262962299951",
    "733688164476661",
    "3449833394123",
    "56394729949972",
    "78124564369297",
    "12154843752835",
)


def importar(**opcoes):
    return importar_noshow(AMOSTRA, now=AGORA, **opcoes)


def test_it_creates_one_appointment_per_good_row_and_one_patient_per_patient_id():
    resultado = importar()

    assert resultado.linhas_lidas == 15
    assert resultado.agendamentos_criados == 10
    assert resultado.agendamentos_existentes == 0
    assert resultado.repetidos_no_arquivo == 1
    assert resultado.linhas_rejeitadas == 4
    assert resultado.pacientes_criados == 9
    assert Agendamento.objects.count() == 10
    assert set(Paciente.objects.values_list("id_externo", flat=True)) == set(IDS_PACIENTES_AMOSTRA)
    # The patient with two appointments is one patient.
    assert Paciente.objects.get(id_externo="29872499824296").agendamentos.count() == 2


def test_patients_get_a_placeholder_name_and_no_personal_data():
    importar()

    paciente = Paciente.objects.get(id_externo="558997776694438")
    assert paciente.nome == "Paciente 558997776694438"
    assert paciente.cpf is None
    assert paciente.data_nascimento is None


def test_the_patient_id_is_kept_verbatim_as_text_even_in_scientific_notation():
    importar()

    paciente = Paciente.objects.get(id_externo="9377952927E-5")
    assert paciente.agendamentos.get().id_externo == "5712759"


def test_a_no_show_is_imported_closed_as_faltou_and_the_others_open_as_agendado():
    importar()

    faltas = set(
        Agendamento.objects.filter(status="faltou", active=False).values_list(
            "id_externo", flat=True
        )
    )
    abertos = set(
        Agendamento.objects.filter(status="agendado", active=True).values_list(
            "id_externo", flat=True
        )
    )
    assert faltas == {"5642904", "5642549", "5630279", "5637904"}
    assert abertos == {"5642903", "5712759", "5642503", "5630575", "5638447", "5629448"}
    assert not Atendimento.objects.exists()


def test_appointments_start_at_eight_in_the_clinic_zone_and_last_thirty_minutes_by_default():
    importar()

    agendamento = Agendamento.objects.get(id_externo="5642903")
    assert agendamento.data_hora == datetime(2016, 4, 29, 8, 0, tzinfo=SP)
    assert agendamento.data_hora == datetime(2016, 4, 29, 11, 0, tzinfo=ZoneInfo("UTC"))
    assert agendamento.duracao_minutos == 30
    assert agendamento.fim == agendamento.data_hora + timedelta(minutes=30)


def test_the_hour_and_duration_can_be_chosen():
    importar(hora=time(14, 30), duracao_minutos=45)

    agendamento = Agendamento.objects.get(id_externo="5638447")
    assert timezone.localtime(agendamento.data_hora, SP).date().isoformat() == "2016-06-08"
    assert agendamento.data_hora == datetime(2016, 6, 8, 14, 30, tzinfo=SP)
    assert agendamento.fim == datetime(2016, 6, 8, 15, 15, tzinfo=SP)
    assert not Agendamento.objects.exclude(duracao_minutos=45).exists()


def test_all_appointments_go_to_the_placeholder_dentist_unless_one_is_named():
    importar()
    dentista = Dentista.objects.get(nome=DENTISTA_PADRAO)
    assert set(Agendamento.objects.values_list("dentista_id", flat=True)) == {dentista.pk}

    Agendamento.objects.all().delete()  # history cascades
    existente = Dentista.objects.create(nome="Dra. Ana", cro="CRO-ES 1234")
    importar(dentista_nome="Dra. Ana")
    assert set(Agendamento.objects.values_list("dentista_id", flat=True)) == {existente.pk}
    assert Dentista.objects.count() == 2


def test_every_imported_appointment_gets_one_history_row_with_its_status():
    importar()

    historico = HistoricoStatus.objects.select_related("agendamento")
    assert historico.count() == 10
    for linha in historico:
        assert linha.status_anterior == ""
        assert linha.status_novo == linha.agendamento.status
        assert linha.registrado_em == AGORA
        assert linha.motivo == "Importado de noshow_amostra.csv"
        assert linha.usuario_id is None


def test_quirks_in_columns_the_booking_does_not_need_are_imported_and_counted():
    resultado = importar()

    assert resultado.avisos == {
        "patientid_notacao_cientifica": 1,
        "idade_negativa": 1,
        "idade_acima_de_110": 1,
        "scheduledday_depois_do_atendimento": 1,
        "handcap_acima_de_1": 1,
        "appointmentid_repetido": 1,
    }
    # The rows with quirks are there.
    assert (
        Agendamento.objects.filter(
            id_externo__in=["5712759", "5642503", "5642549", "5630279", "5638447"]
        ).count()
        == 5
    )


def test_rows_missing_a_needed_field_are_skipped_and_reported_by_line_number():
    resultado = importar()

    assert [(r.linha, r.coluna, r.appointment_id) for r in resultado.rejeicoes] == [
        (7, "AppointmentDay", "5642828"),
        (8, "AppointmentID", ""),
        (9, "No-show", "5626772"),
        (13, "PatientId", "5629123"),
    ]
    assert all(r.motivo for r in resultado.rejeicoes)
    assert not Agendamento.objects.filter(id_externo__in=["5642828", "5626772", "5629123"])
    # The rejected rows' patients were not created either.
    assert not Paciente.objects.filter(id_externo__in=["867951213174", "8841186448183"])


def test_running_it_again_duplicates_nothing_and_leaves_closed_appointments_alone():
    importar()
    fechados = finalizar_agendamentos_vencidos(now=AGORA)
    assert fechados == 6
    antes = {
        a.id_externo: (a.pk, a.status, a.active, a.updated_at) for a in Agendamento.objects.all()
    }

    resultado = importar_noshow(AMOSTRA, now=AGORA + timedelta(days=1))

    assert resultado.agendamentos_criados == 0
    assert resultado.agendamentos_existentes == 10
    assert resultado.pacientes_criados == 0
    assert resultado.linhas_rejeitadas == 4
    depois = {
        a.id_externo: (a.pk, a.status, a.active, a.updated_at) for a in Agendamento.objects.all()
    }
    assert depois == antes
    assert Paciente.objects.count() == 9
    assert HistoricoStatus.objects.filter(status_anterior="").count() == 10


def test_small_chunks_give_the_same_result_as_one_big_chunk():
    resultado = importar(tamanho_lote=2)

    assert (resultado.agendamentos_criados, resultado.pacientes_criados) == (10, 9)
    assert resultado.avisos["appointmentid_repetido"] == 1
    assert HistoricoStatus.objects.count() == 10


def test_importing_enqueues_no_celery_task(django_capture_on_commit_callbacks):
    with (
        mock.patch("apps.clinic.tasks.processar_agendamento_especifico.delay") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        importar()

    assert Agendamento.objects.filter(active=True).count() == 6  # all in the past
    assert callbacks == []
    delay.assert_not_called()


def test_a_file_that_is_not_the_no_show_csv_is_refused(tmp_path):
    outro = tmp_path / "outro.csv"
    outro.write_text("nome,telefone\nAna,123\n", encoding="utf-8")

    with pytest.raises(ArquivoInvalido, match="PatientId"):
        importar_noshow(outro, now=AGORA)
    assert not Agendamento.objects.exists()


def test_a_duration_outside_five_to_480_minutes_is_refused():
    with pytest.raises(ValueError):
        importar(duracao_minutos=481)


def test_the_command_prints_the_summary_and_the_bad_lines_without_patient_ids():
    saida, erros = StringIO(), StringIO()

    call_command("importar_noshow", str(AMOSTRA), "--sem-progresso", stdout=saida, stderr=erros)

    resumo = saida.getvalue()
    assert "linhas lidas:                     15" in resumo
    assert "agendamentos criados:             10" in resumo
    assert "pacientes criados:                9" in resumo
    assert "linhas rejeitadas:                4" in resumo
    assert "Age negativa" in resumo
    assert "linhas/s" in resumo
    relatorio = erros.getvalue()
    assert "linha 7 (AppointmentID 5642828): AppointmentDay:" in relatorio
    assert "linha 8: AppointmentID: ausente" in relatorio
    assert "linha 9 (AppointmentID 5626772): No-show:" in relatorio
    assert "linha 13 (AppointmentID 5629123): PatientId: ausente" in relatorio
    for texto in (resumo, relatorio):
        assert not any(paciente in texto for paciente in IDS_PACIENTES_AMOSTRA)
        assert "867951213174" not in texto and "95985133231274" not in texto


def test_the_command_takes_hour_duration_and_dentist_options():
    call_command(
        "importar_noshow",
        str(AMOSTRA),
        "--hora",
        "07:15",
        "--duracao",
        "20",
        "--dentista",
        "Dr. Bruno",
        "--sem-progresso",
        stdout=StringIO(),
        stderr=StringIO(),
    )

    agendamento = Agendamento.objects.get(id_externo="5642903")
    assert agendamento.data_hora == datetime(2016, 4, 29, 7, 15, tzinfo=SP)
    assert agendamento.duracao_minutos == 20
    assert agendamento.dentista.nome == "Dr. Bruno"


@pytest.mark.parametrize("opcoes", [["--hora", "25:00"], ["--hora", "8h"], ["--duracao", "4"]])
def test_the_command_refuses_a_bad_hour_or_duration(opcoes):
    with pytest.raises(CommandError):
        call_command("importar_noshow", str(AMOSTRA), *opcoes, stdout=StringIO())
    assert not Agendamento.objects.exists()


def test_the_command_reports_a_missing_file_as_an_error(tmp_path):
    with pytest.raises(CommandError, match="não foi possível ler"):
        call_command("importar_noshow", str(tmp_path / "nao-existe.csv"), "--sem-progresso")


@pytest.mark.skipif(not ARQUIVO_REAL.exists(), reason=f"{ARQUIVO_REAL} not present")
def test_the_real_file_imports_whole_and_the_sweep_concludes_every_attended_appointment():
    resultado = importar_noshow(ARQUIVO_REAL, now=AGORA)

    assert resultado.linhas_lidas == 110_527
    assert resultado.agendamentos_criados == 110_527
    assert resultado.pacientes_criados == 62_299
    assert resultado.linhas_rejeitadas == 0
    assert resultado.avisos == {
        "handcap_acima_de_1": 199,
        "patientid_notacao_cientifica": 5,
        "scheduledday_depois_do_atendimento": 5,
        "idade_acima_de_110": 5,
        "idade_negativa": 1,
    }

    finalizar_agendamentos_vencidos(now=AGORA)

    assert Agendamento.objects.count() == 110_527
    assert Agendamento.objects.filter(active=True).count() == 0
    assert Atendimento.objects.filter(origem="automatico").count() == 88_208
    assert Atendimento.objects.count() == 88_208
    assert Agendamento.objects.filter(status="faltou", atendimento__isnull=True).count() == 22_319
    assert Agendamento.objects.filter(status="concluido").count() == 88_208


CABECALHO = (
    "PatientId,AppointmentID,Gender,ScheduledDay,AppointmentDay,Age,Neighbourhood,"
    "Scholarship,Hipertension,Diabetes,Alcoholism,Handcap,SMS_received,No-show\n"
)


def test_an_hour_skipped_by_daylight_saving_is_counted_and_moved_to_the_real_instant(tmp_path):
    # Brazil's DST began at midnight on 2015-10-18: 00:00–00:59 did not exist.
    arquivo = tmp_path / "dst.csv"
    arquivo.write_text(
        CABECALHO + "11,900001,F,2015-10-01T10:00:00Z,2015-10-18T00:00:00Z,30,CENTRO,"
        "0,0,0,0,0,0,No\n",
        encoding="utf-8",
    )

    resultado = importar_noshow(arquivo, now=AGORA, hora=time(0, 30))

    assert resultado.avisos == {"hora_inexistente_no_fuso": 1}
    agendamento = Agendamento.objects.get(id_externo="900001")
    assert agendamento.data_hora == datetime(2015, 10, 18, 3, 30, tzinfo=ZoneInfo("UTC"))
    assert timezone.localtime(agendamento.data_hora, SP).hour == 1


def test_a_row_with_a_wrong_number_of_fields_is_rejected_and_the_rest_imported(tmp_path):
    arquivo = tmp_path / "curta.csv"
    arquivo.write_text(
        CABECALHO
        + "11,900001,F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,30\n"
        + "12,900002,F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,30,CENTRO,0,0,0,0,0,0,No\n",
        encoding="utf-8",
    )

    resultado = importar_noshow(arquivo, now=AGORA)

    assert [(r.linha, r.coluna) for r in resultado.rejeicoes] == [(2, "*")]
    assert list(Agendamento.objects.values_list("id_externo", flat=True)) == ["900002"]


def test_a_unicode_digit_in_handcap_is_an_invalid_indicator_not_a_crash(tmp_path):
    # "²".isdigit() is True and int("²") raised ValueError: the whole import stopped.
    arquivo = tmp_path / "sobrescrito.csv"
    arquivo.write_text(
        CABECALHO + "11,900001,F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,30,CENTRO,"
        "0,0,0,0,²,0,No\n",
        encoding="utf-8",
    )

    resultado = importar_noshow(arquivo, now=AGORA)

    assert resultado.avisos == {"indicador_invalido": 1}
    assert Agendamento.objects.filter(id_externo="900001").exists()
