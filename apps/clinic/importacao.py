"""Import of the "Medical Appointment No Shows" CSV into patients and appointments.

Source format: Kaggle data set "Medical Appointment No Shows" (Joni Hoppen /
Aquarela Analytics, 2016; https://www.kaggle.com/datasets/joniarroba/noshowappointments),
file ``KaggleV2-May-2016.csv``: UTF-8, comma-separated, one header row with
the columns in ``COLUNAS``; see ``shared/data/SOURCES.md`` for its quirks.

The data has appointment dates but no times and no dentist, so every
appointment starts at one local time (``hora``, in ``settings.TIME_ZONE``)
with one duration and one placeholder dentist. Health and demographic columns
(Gender, Age, Neighbourhood, the flags) are checked for quirks but not stored:
the clinic's models have no place for them and the booking does not need them.

Like ``services.agendamento_criar``, this module creates appointments with a
status; it never changes the status of an existing one (conflicts on
``id_externo`` are ignored), so ``services.py`` stays the only code that moves
an appointment between statuses.
"""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from .models import (
    ANO_MAXIMO,
    ANO_MINIMO,
    DURACAO_MAXIMA_MINUTOS,
    DURACAO_MINIMA_MINUTOS,
    LIMITE_ID_EXTERNO,
    LIMITE_NOME,
    Agendamento,
    Dentista,
    HistoricoStatus,
    Paciente,
)

COLUNAS = (
    "PatientId",
    "AppointmentID",
    "Gender",
    "ScheduledDay",
    "AppointmentDay",
    "Age",
    "Neighbourhood",
    "Scholarship",
    "Hipertension",
    "Diabetes",
    "Alcoholism",
    "Handcap",
    "SMS_received",
    "No-show",
)
COLUNAS_INDICADORES = ("Scholarship", "Hipertension", "Diabetes", "Alcoholism", "SMS_received")

DENTISTA_PADRAO = "Dentista não informado (importação)"
HORA_PADRAO = dt_time(8, 0)
DURACAO_PADRAO_MINUTOS = 30
TAMANHO_LOTE_PADRAO = 5000
TAMANHO_LOTE_MAXIMO = 20_000
# Rejections kept with their details; beyond this only the count grows, so a
# file of garbage cannot exhaust memory.
LIMITE_REJEICOES_DETALHADAS = 1000
# Appointment dates outside ANO_MINIMO–ANO_MAXIMO (models) are rejected: they
# would overflow when converted to UTC near year 1 or 9999, and would fail the
# whole chunk's INSERT.
# Both id columns are varchar(LIMITE_ID_EXTERNO) (models.Paciente/Agendamento.id_externo).
TAMANHO_MAXIMO_ID = LIMITE_ID_EXTERNO
# A patient is named "Paciente <PatientId>", within LIMITE_NOME for any valid id;
# the history reason "Importado de <file name>" within LIMITE_MOTIVO_HISTORICO
# for any file name (255 bytes at most on common file systems).
# Serialises the chunk transactions of concurrent imports on PostgreSQL (see
# _gravar_lote). Arbitrary constant: "NKIMPORT" in ASCII, as a signed bigint.
CHAVE_TRAVA_IMPORTACAO = int.from_bytes(b"NKIMPORT", "big", signed=True)

# A PatientId is a number written as text: digits, optionally with a decimal
# part and an exponent (5 rows of the real file are like "9377952927E-5").
_RE_PATIENT_ID = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_RE_APPOINTMENT_ID = re.compile(r"[0-9]+")
# No-show "Yes" (did not come) -> faltou, closed; "No" -> agendado, open.
_STATUS_IMPORTADO = {True: Agendamento.Status.FALTOU, False: Agendamento.Status.AGENDADO}

# Kinds of warning (rows imported anyway) -> pt-BR description for the summary.
AVISOS = {
    "patientid_notacao_cientifica": "PatientId em notação científica (mantido como texto)",
    "appointmentday_com_hora": "AppointmentDay com hora diferente de 00:00 (hora ignorada)",
    "hora_inexistente_no_fuso": "hora inexistente no fuso na data (mudança de horário de verão)",
    "scheduledday_invalido": "ScheduledDay ausente ou inválido",
    "scheduledday_depois_do_atendimento": "ScheduledDay depois de AppointmentDay",
    "idade_invalida": "Age ausente ou não numérica",
    "idade_negativa": "Age negativa",
    "idade_acima_de_110": "Age acima de 110",
    "handcap_acima_de_1": "Handcap maior que 1",
    "indicador_invalido": "indicador (Scholarship, Hipertension, Diabetes, Alcoholism, "
    "Handcap, SMS_received) fora de 0/1",
    "genero_invalido": "Gender diferente de F/M",
    "bairro_vazio": "Neighbourhood vazio",
    "appointmentid_repetido": "AppointmentID repetido no arquivo (só a primeira linha vale)",
}


class ArquivoInvalido(ValueError):
    """The file cannot be imported at all (unreadable, not UTF-8, wrong header)."""


@dataclass(frozen=True)
class Rejeicao:
    """One problem that made a row be skipped. Holds no patient data."""

    linha: int  # physical line in the file; the header is line 1
    coluna: str
    motivo: str  # pt-BR
    appointment_id: str = ""  # shown when it is known and valid


@dataclass
class ResultadoImportacao:
    """What an import did. Row counts satisfy
    ``linhas_lidas == agendamentos_criados + agendamentos_existentes
    + repetidos_no_arquivo + linhas_rejeitadas``.
    """

    arquivo: str
    linhas_lidas: int = 0
    agendamentos_criados: int = 0
    agendamentos_existentes: int = 0  # already in the database: left untouched
    repetidos_no_arquivo: int = 0  # AppointmentID seen earlier in the same file
    pacientes_criados: int = 0
    linhas_rejeitadas: int = 0
    rejeicoes: list[Rejeicao] = field(default_factory=list)  # first LIMITE_… only
    avisos: Counter[str] = field(default_factory=Counter)  # kind (key of AVISOS) -> rows
    segundos: float = 0.0

    @property
    def linhas_por_segundo(self) -> float:
        """Rows read per second of wall-clock time (0 when nothing was timed)."""
        return self.linhas_lidas / self.segundos if self.segundos > 0 else 0.0


@dataclass(frozen=True, slots=True)
class _Linha:
    """A row that passed validation, reduced to what the booking needs."""

    patient_id: str
    appointment_id: str
    data_hora: datetime  # aware
    faltou: bool


def contar_linhas_de_dados(caminho: str | Path) -> int:
    """Return the number of lines after the header (an upper bound of the rows).

    Cheap (reads bytes, ~10 ms for the 10 MB real file); used for the size of
    a progress bar. Quoted fields spanning lines would make it overcount.
    """
    linhas = 0
    ultimo = b"\n"
    with open(caminho, "rb") as arquivo:
        while bloco := arquivo.read(1 << 20):
            linhas += bloco.count(b"\n")
            ultimo = bloco[-1:]
    if ultimo != b"\n":
        linhas += 1
    return max(linhas - 1, 0)


def importar_noshow(
    caminho: str | Path,
    *,
    now: datetime,
    hora: dt_time = HORA_PADRAO,
    duracao_minutos: int = DURACAO_PADRAO_MINUTOS,
    dentista_nome: str = DENTISTA_PADRAO,
    tamanho_lote: int = TAMANHO_LOTE_PADRAO,
    ao_avancar: Callable[[int], None] | None = None,
) -> ResultadoImportacao:
    """Import the No-Show CSV at ``caminho``; return a :class:`ResultadoImportacao`.

    One ``Paciente`` per ``PatientId`` (kept verbatim as text in
    ``id_externo``, name ``"Paciente <PatientId>"``) and one ``Agendamento``
    per ``AppointmentID`` (``id_externo``) with the dentist named
    ``dentista_nome`` (created if missing). The appointment starts at ``hora``
    (naive wall-clock time, in ``settings.TIME_ZONE``) on AppointmentDay's date
    and lasts ``duracao_minutos`` minutes (5–480). ``No-show`` "Yes" gives
    ``faltou``/closed, "No" gives ``agendado``/open (the closing sweep then
    concludes it if it is past). Each appointment created gets one
    ``HistoricoStatus`` row (registrado_em ``now``, an aware datetime).

    Rows lacking a needed field (PatientId, AppointmentID, AppointmentDay,
    No-show) are skipped and listed in ``rejeicoes``; quirks in other columns
    are only counted in ``avisos``. Re-running is harmless: existing patients
    and appointments (matched by ``id_externo``) are left as they are.

    Works in chunks of ``tamanho_lote`` rows, one transaction each, with bulk
    inserts (no ``post_save``, so no Celery task is enqueued). A failure
    leaves the chunks committed so far; running again completes the rest.
    ``ao_avancar(n)`` is called after each chunk with the rows it covered.

    Raises ``ArquivoInvalido`` (pt-BR message) when the file cannot be read
    or its header lacks a column, ``ValueError`` for arguments out of range
    (``dentista_nome`` blank or over ``models.LIMITE_NOME`` characters).
    """
    if not DURACAO_MINIMA_MINUTOS <= duracao_minutos <= DURACAO_MAXIMA_MINUTOS:
        raise ValueError(
            f"duracao_minutos must be {DURACAO_MINIMA_MINUTOS}–{DURACAO_MAXIMA_MINUTOS}, "
            f"got {duracao_minutos}"
        )
    if not 1 <= tamanho_lote <= TAMANHO_LOTE_MAXIMO:
        raise ValueError(f"tamanho_lote must be 1–{TAMANHO_LOTE_MAXIMO}, got {tamanho_lote}")
    if not dentista_nome.strip():
        raise ValueError("dentista_nome must not be blank")
    if len(dentista_nome.strip()) > LIMITE_NOME:
        raise ValueError(f"dentista_nome must have at most {LIMITE_NOME} characters")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")

    caminho = Path(caminho)
    inicio = time.perf_counter()
    resultado = ResultadoImportacao(arquivo=caminho.name)
    leitor = _LeitorNoShow(resultado, hora=hora, fuso=ZoneInfo(settings.TIME_ZONE), caminho=caminho)
    dentista_id = _dentista_garantir(dentista_nome.strip())
    motivo = f"Importado de {caminho.name}"

    for lote, linhas_cobertas in leitor.lotes(tamanho_lote):
        if lote:
            _gravar_lote(
                lote,
                resultado,
                dentista_id=dentista_id,
                duracao_minutos=duracao_minutos,
                motivo=motivo,
                now=now,
            )
        if ao_avancar is not None:
            ao_avancar(linhas_cobertas)

    resultado.segundos = time.perf_counter() - inicio
    return resultado


def _dentista_garantir(nome: str) -> int:
    """Return the pk of the (oldest) dentist called ``nome``, creating one if none."""
    existente = Dentista.objects.filter(nome=nome).order_by("id").values_list("id", flat=True)
    pk = existente.first()
    if pk is None:
        pk = Dentista.objects.create(nome=nome).pk
    return pk


class _LeitorNoShow:
    """Streams validated rows from the CSV, recording rejections and warnings."""

    def __init__(
        self, resultado: ResultadoImportacao, *, hora: dt_time, fuso: ZoneInfo, caminho: Path
    ):
        self.resultado = resultado
        self.hora = hora
        self.fuso = fuso
        self.caminho = caminho
        # AppointmentDay text -> (start, warning kinds) or rejection reason; the
        # real file has 27 distinct values, so this saves 110k parses.
        self._datas: dict[str, tuple[datetime, tuple[str, ...]] | str] = {}
        self._appointment_ids_vistos: set[str] = set()

    def lotes(self, tamanho: int) -> Iterator[tuple[list[_Linha], int]]:
        """Yield ``(valid rows, rows read for them)`` about ``tamanho`` rows at a time."""
        try:
            with open(self.caminho, encoding="utf-8-sig", newline="") as arquivo:
                leitor = csv.reader(arquivo)
                try:
                    cabecalho = next(leitor)
                except StopIteration:
                    raise ArquivoInvalido("arquivo vazio: falta o cabeçalho") from None
                indice = self._indice_colunas(cabecalho)
                lote: list[_Linha] = []
                lidas_no_lote = 0
                for campos in leitor:
                    if not campos:  # blank line: not a row
                        continue
                    self.resultado.linhas_lidas += 1
                    lidas_no_lote += 1
                    linha = self._validar(campos, indice, leitor.line_num, len(cabecalho))
                    if linha is not None:
                        lote.append(linha)
                    if lidas_no_lote >= tamanho:
                        yield lote, lidas_no_lote
                        lote, lidas_no_lote = [], 0
                if lidas_no_lote:
                    yield lote, lidas_no_lote
        except UnicodeDecodeError as exc:
            raise ArquivoInvalido(f"o arquivo não está em UTF-8 ({exc.reason})") from None
        except csv.Error as exc:
            raise ArquivoInvalido(f"CSV malformado: {exc}") from None
        except OSError as exc:
            raise ArquivoInvalido(f"não foi possível ler o arquivo: {exc.strerror}") from None

    @staticmethod
    def _indice_colunas(cabecalho: list[str]) -> dict[str, int]:
        nomes = [nome.strip() for nome in cabecalho]
        faltando = [coluna for coluna in COLUNAS if coluna not in nomes]
        if faltando:
            raise ArquivoInvalido(
                "cabeçalho sem a(s) coluna(s) " + ", ".join(faltando) + "; não parece ser o "
                "arquivo Medical Appointment No Shows (KaggleV2-May-2016.csv)"
            )
        return {coluna: nomes.index(coluna) for coluna in COLUNAS}

    def _rejeitar(self, problemas: list[tuple[str, str]], numero: int, appointment_id: str):
        self.resultado.linhas_rejeitadas += 1
        for coluna, motivo in problemas:
            if len(self.resultado.rejeicoes) < LIMITE_REJEICOES_DETALHADAS:
                self.resultado.rejeicoes.append(
                    Rejeicao(numero, coluna, motivo, appointment_id=appointment_id)
                )

    def _validar(
        self, campos: list[str], indice: dict[str, int], numero: int, n_colunas: int
    ) -> _Linha | None:
        if len(campos) != n_colunas:
            self._rejeitar(
                [("*", f"a linha tem {len(campos)} campo(s); o cabeçalho tem {n_colunas}")],
                numero,
                "",
            )
            return None
        valor = {coluna: campos[i].strip() for coluna, i in indice.items()}
        problemas: list[tuple[str, str]] = []
        avisos: list[str] = []

        patient_id = valor["PatientId"]
        if not patient_id:
            problemas.append(("PatientId", "ausente"))
        elif len(patient_id) > TAMANHO_MAXIMO_ID:
            problemas.append(
                ("PatientId", f"longo demais (no máximo {TAMANHO_MAXIMO_ID} caracteres)")
            )
        elif not _RE_PATIENT_ID.fullmatch(patient_id):
            problemas.append(("PatientId", "inválido (esperado um número)"))
        elif "e" in patient_id or "E" in patient_id:
            avisos.append("patientid_notacao_cientifica")

        appointment_id = valor["AppointmentID"]
        if not appointment_id:
            problemas.append(("AppointmentID", "ausente"))
        elif len(appointment_id) > TAMANHO_MAXIMO_ID:
            problemas.append(
                ("AppointmentID", f"longo demais (no máximo {TAMANHO_MAXIMO_ID} caracteres)")
            )
            appointment_id = ""  # not shown: it may be anything
        elif not _RE_APPOINTMENT_ID.fullmatch(appointment_id):
            problemas.append(("AppointmentID", "inválido (esperado um número inteiro)"))
            appointment_id = ""  # not shown: it may be anything

        data = self._data_hora(valor["AppointmentDay"])
        if isinstance(data, str):
            problemas.append(("AppointmentDay", data))
        else:
            data_hora, avisos_data = data
            avisos.extend(avisos_data)

        no_show = valor["No-show"].lower()
        if not no_show:
            problemas.append(("No-show", "ausente"))
        elif no_show not in ("yes", "no"):
            problemas.append(("No-show", "valor diferente de Yes/No"))

        if problemas:
            self._rejeitar(problemas, numero, appointment_id)
            return None

        if appointment_id in self._appointment_ids_vistos:
            self.resultado.repetidos_no_arquivo += 1
            self.resultado.avisos["appointmentid_repetido"] += 1
            return None
        self._appointment_ids_vistos.add(appointment_id)

        avisos.extend(self._avisos_campos_livres(valor, data_hora.date()))
        self.resultado.avisos.update(avisos)
        return _Linha(patient_id, appointment_id, data_hora, faltou=no_show == "yes")

    def _data_hora(self, texto: str) -> tuple[datetime, tuple[str, ...]] | str:
        """AppointmentDay text -> (aware start, warning kinds), or a pt-BR reason."""
        em_cache = self._datas.get(texto)
        if em_cache is not None:
            return em_cache
        if not texto:
            resposta: tuple[datetime, tuple[str, ...]] | str = "ausente"
        else:
            resposta = self._interpretar_data(texto)
        if len(self._datas) < 10_000:
            self._datas[texto] = resposta
        return resposta

    def _interpretar_data(self, texto: str) -> tuple[datetime, tuple[str, ...]] | str:
        try:
            lido = datetime.fromisoformat(texto)
        except ValueError:
            return "data inválida (esperado AAAA-MM-DDTHH:MM:SSZ)"
        if not ANO_MINIMO <= lido.year <= ANO_MAXIMO:
            return f"data fora do intervalo aceito ({ANO_MINIMO}–{ANO_MAXIMO})"
        avisos: list[str] = []
        if (lido.hour, lido.minute, lido.second, lido.microsecond) != (0, 0, 0, 0):
            avisos.append("appointmentday_com_hora")
        # The file writes calendar dates as midnight UTC ("2016-04-29T00:00:00Z");
        # the date as written is the appointment's day in the clinic.
        inicio = datetime.combine(lido.date(), self.hora, tzinfo=self.fuso)
        ida_e_volta = inicio.astimezone(UTC).astimezone(self.fuso)
        if ida_e_volta.replace(tzinfo=None) != inicio.replace(tzinfo=None):
            avisos.append("hora_inexistente_no_fuso")
            inicio = ida_e_volta  # the instant zoneinfo gave it, written as it really reads
        return inicio, tuple(avisos)

    @staticmethod
    def _avisos_campos_livres(valor: dict[str, str], dia: date) -> Iterator[str]:
        """Warning kinds for quirks in the columns the booking does not use."""
        try:
            agendado_em = datetime.fromisoformat(valor["ScheduledDay"])
        except ValueError:
            yield "scheduledday_invalido"
        else:
            if agendado_em.date() > dia:
                yield "scheduledday_depois_do_atendimento"

        try:
            idade = int(valor["Age"])
        except ValueError:
            yield "idade_invalida"
        else:
            if idade < 0:
                yield "idade_negativa"
            elif idade > 110:
                yield "idade_acima_de_110"

        handcap = valor["Handcap"]
        if handcap.isascii() and handcap.isdigit() and int(handcap) > 1:  # not "²"
            yield "handcap_acima_de_1"  # 0–4 in the real file though documented as 0/1
        elif handcap not in ("0", "1"):
            yield "indicador_invalido"
        for coluna in COLUNAS_INDICADORES:
            if valor[coluna] not in ("0", "1"):
                yield "indicador_invalido"
                break

        if valor["Gender"] not in ("F", "M"):
            yield "genero_invalido"
        if not valor["Neighbourhood"]:
            yield "bairro_vazio"


def _gravar_lote(
    lote: list[_Linha],
    resultado: ResultadoImportacao,
    *,
    dentista_id: int,
    duracao_minutos: int,
    motivo: str,
    now: datetime,
) -> None:
    """Insert one chunk's new patients, appointments and history in one transaction.

    Existing ids are read first and only the missing ones are inserted, so the
    counts and the history rows are exact. That read-then-insert needs the
    chunk transactions of two concurrent imports not to interleave: on
    PostgreSQL a transaction-scoped advisory lock serialises them; on SQLite
    the IMMEDIATE transaction (settings) already holds the write lock.
    ``ignore_conflicts`` stays as the database-level guard against doubles.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAVE_TRAVA_IMPORTACAO])

        # Patients.
        ids_pacientes = list(dict.fromkeys(linha.patient_id for linha in lote))
        paciente_pk = _por_id_externo(Paciente, ids_pacientes)
        novos_pacientes = [pid for pid in ids_pacientes if pid not in paciente_pk]
        if novos_pacientes:
            if connection.vendor == "postgresql":
                _pacientes_inserir_pg(novos_pacientes, now=now)
            else:
                Paciente.objects.bulk_create(
                    (Paciente(id_externo=pid, nome=f"Paciente {pid}") for pid in novos_pacientes),
                    ignore_conflicts=True,
                )
            criados = _por_id_externo(Paciente, novos_pacientes)
            _conferir(len(criados), len(novos_pacientes), "patients")
            paciente_pk.update(criados)
            resultado.pacientes_criados += len(criados)

        # Appointments: those already imported are left exactly as they are.
        existentes = set(_por_id_externo(Agendamento, [linha.appointment_id for linha in lote]))
        novos = [linha for linha in lote if linha.appointment_id not in existentes]
        resultado.agendamentos_existentes += len(lote) - len(novos)
        if not novos:
            return
        if connection.vendor == "postgresql":
            _agendamentos_inserir_pg(
                novos,
                paciente_pk,
                dentista_id=dentista_id,
                duracao_minutos=duracao_minutos,
                now=now,
            )
        else:
            _agendamentos_bulk_create(
                novos, paciente_pk, dentista_id=dentista_id, duracao_minutos=duracao_minutos
            )
        criados = _historico_criar(
            [linha.appointment_id for linha in novos], motivo=motivo, now=now
        )
        _conferir(criados, len(novos), "appointments")
        resultado.agendamentos_criados += criados


def _por_id_externo(modelo, ids_externos: list[str]) -> dict[str, int]:
    """``{id_externo: pk}`` of the rows of ``modelo`` among ``ids_externos``.

    On PostgreSQL one array parameter (``= ANY``) instead of thousands of
    placeholders, whose building and splitting cost more than the query.
    """
    if connection.vendor != "postgresql":
        return dict(
            modelo.objects.filter(id_externo__in=ids_externos).values_list("id_externo", "pk")
        )
    tabela = connection.ops.quote_name(modelo._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id_externo, id FROM {tabela} WHERE id_externo = ANY(%s::text[])",
            [ids_externos],
        )
        return dict(cursor.fetchall())


def _agendamentos_bulk_create(
    novos: list[_Linha], paciente_pk: dict[str, int], *, dentista_id: int, duracao_minutos: int
) -> None:
    """Portable insert of a chunk's appointments (SQLite)."""
    Agendamento.objects.bulk_create(
        (
            Agendamento(
                paciente_id=paciente_pk[linha.patient_id],
                dentista_id=dentista_id,
                data_hora=linha.data_hora,
                duracao_minutos=duracao_minutos,
                status=_STATUS_IMPORTADO[linha.faltou],
                active=not linha.faltou,
                id_externo=linha.appointment_id,
                horario_estimado=True,  # the data set has no times: a placeholder
            )
            for linha in novos
        ),
        ignore_conflicts=True,
    )


# PostgreSQL: the chunk goes in as a handful of arrays and one INSERT … SELECT
# FROM unnest(…) per table, instead of Django building and adapting a model
# object per row (most of the import's time; docs/PERFORMANCE.md). Same rows,
# same conflict handling (ON CONFLICT DO NOTHING on id_externo).
_SQL_PACIENTES_PG = """
INSERT INTO clinic_paciente (nome, id_externo, telefone, email, created_at, updated_at)
SELECT 'Paciente ' || x, x, '', '', %(agora)s, %(agora)s FROM unnest(%(ids)s::text[]) AS x
ON CONFLICT (id_externo) DO NOTHING
"""
_SQL_AGENDAMENTOS_PG = """
INSERT INTO clinic_agendamento (paciente_id, dentista_id, data_hora, duracao_minutos,
    observacoes, status, active, fechamento_automatico, horario_estimado, cancelamento_tardio,
    id_externo, created_at, updated_at)
SELECT u.paciente_id, %(dentista)s, u.data_hora, %(duracao)s, '', u.status, u.active, true,
    true, false, u.id_externo, %(agora)s, %(agora)s
FROM unnest(%(pacientes)s::bigint[], %(inicios)s::timestamptz[], %(status)s::text[],
            %(ativos)s::boolean[], %(ids)s::text[])
    AS u(paciente_id, data_hora, status, active, id_externo)
ON CONFLICT (id_externo) DO NOTHING
"""


def _pacientes_inserir_pg(ids_externos: list[str], *, now: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SQL_PACIENTES_PG, {"ids": ids_externos, "agora": now})


def _agendamentos_inserir_pg(
    novos: list[_Linha],
    paciente_pk: dict[str, int],
    *,
    dentista_id: int,
    duracao_minutos: int,
    now: datetime,
) -> None:
    # horario_estimado=true: the data set has no times, the start is a placeholder.
    with connection.cursor() as cursor:
        cursor.execute(
            _SQL_AGENDAMENTOS_PG,
            {
                "dentista": dentista_id,
                "duracao": duracao_minutos,
                "agora": now,
                "pacientes": [paciente_pk[linha.patient_id] for linha in novos],
                "inicios": [linha.data_hora for linha in novos],
                "status": [str(_STATUS_IMPORTADO[linha.faltou]) for linha in novos],
                "ativos": [not linha.faltou for linha in novos],
                "ids": [linha.appointment_id for linha in novos],
            },
        )


def _historico_criar(appointment_ids: list[str], *, motivo: str, now: datetime) -> int:
    """Append the first history row of the appointments ``appointment_ids``; return how many.

    ``INSERT … SELECT`` from the appointments just inserted: the database
    maps external ids to pks and copies each status itself, which keeps
    110k history objects (and their parameters) out of Python; it is the
    bulk import's biggest single saving (docs/IMPORTACAO.md).
    """
    historico, agendamento = HistoricoStatus._meta, Agendamento._meta
    q = connection.ops.quote_name
    colunas = ", ".join(
        q(historico.get_field(nome).column)
        for nome in ("agendamento", "status_anterior", "status_novo", "registrado_em", "usuario")
        + ("task_id", "motivo", "pelo_paciente")
    )
    if connection.vendor == "postgresql":  # one array parameter, not 5,000 placeholders
        filtro, parametros = "= ANY(%s::text[])", [appointment_ids]
    else:
        filtro, parametros = f"IN ({', '.join(['%s'] * len(appointment_ids))})", appointment_ids
    sql = (
        f"INSERT INTO {q(historico.db_table)} ({colunas}) "
        f"SELECT {q(agendamento.pk.column)}, '', {q(agendamento.get_field('status').column)}, "
        f"%s, NULL, '', %s, FALSE FROM {q(agendamento.db_table)} "
        f"WHERE {q(agendamento.get_field('id_externo').column)} {filtro}"
    )
    registrado_em = historico.get_field("registrado_em").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [registrado_em, motivo, *parametros])
        return cursor.rowcount


def _conferir(encontrados: int, esperados: int, o_que: str) -> None:
    """Roll the chunk back if an insert lost rows instead of failing loudly.

    Guards against a silent drop: SQLite's ``INSERT OR IGNORE`` (what
    ``ignore_conflicts`` becomes there) also skips rows that break a CHECK or
    NOT NULL constraint, not only unique conflicts.
    """
    if encontrados != esperados:
        raise RuntimeError(
            f"inserted {esperados} {o_que} but found {encontrados}; chunk rolled back"
        )


__all__ = [
    "AVISOS",
    "ArquivoInvalido",
    "DENTISTA_PADRAO",
    "DURACAO_PADRAO_MINUTOS",
    "HORA_PADRAO",
    "Rejeicao",
    "ResultadoImportacao",
    "TAMANHO_LOTE_PADRAO",
    "contar_linhas_de_dados",
    "importar_noshow",
]
