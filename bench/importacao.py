"""Benchmark 5: ``importar_noshow`` on the real 110,527-row file, vs PostgreSQL's COPY.

``python -m bench.importacao`` imports ``../shared/data/KaggleV2-May-2016.csv``
into a fresh PostgreSQL database (``BENCH_DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/bench_importacao``, dropped and created)
and into a fresh SQLite file, and times a plain ``COPY`` of the same rows
(patients, appointments, their first history rows) into the same tables as
the floor. Each measurement runs in its own process. Prints a table and
writes it into docs/PERFORMANCE.md between ``<!-- bench:importacao -->``
markers. Target (issue 5): at least 10,000 rows/s on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from bench import documento

BASE_DIR = Path(__file__).resolve().parent.parent
ARQUIVO = BASE_DIR.parent / "shared" / "data" / "KaggleV2-May-2016.csv"


def _medir_importacao(url: str) -> dict:
    """In a child process: migrate ``url`` and time importar_noshow on the real file."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from apps.clinic.importacao import importar_noshow

    call_command("migrate", verbosity=0)
    inicio = time.perf_counter()
    resultado = importar_noshow(ARQUIVO, now=timezone.now())
    segundos = time.perf_counter() - inicio
    return {
        "linhas": resultado.linhas_lidas,
        "segundos": segundos,
        "criados": resultado.agendamentos_criados,
    }


def _medir_copy(url: str) -> dict:
    """In a child process: COPY the file's rows into the same (emptied) tables; time it.

    Parsing is done first and not timed: this is the database's floor for
    writing the same rows, with the same indexes and constraints.
    """
    import csv
    from datetime import datetime
    from datetime import time as dtime
    from zoneinfo import ZoneInfo

    import psycopg

    fuso = ZoneInfo("America/Sao_Paulo")
    pacientes: dict[str, int] = {}
    agendamentos = []
    with open(ARQUIVO, newline="") as f:
        for linha in csv.DictReader(f):
            pid = linha["PatientId"].strip()
            pk = pacientes.setdefault(pid, len(pacientes) + 1)
            dia = datetime.fromisoformat(linha["AppointmentDay"].replace("Z", "+00:00")).date()
            inicio = datetime.combine(dia, dtime(8, 0), tzinfo=fuso)
            faltou = linha["No-show"].strip() == "Yes"
            agendamentos.append((pk, inicio, faltou, linha["AppointmentID"].strip()))
    agora = datetime.now(fuso)
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=False) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM clinic_dentista LIMIT 1")
            dentista = cur.fetchone()[0]
            cur.execute(
                "TRUNCATE clinic_historicostatus, clinic_atendimento, clinic_agendamento, "
                "clinic_paciente RESTART IDENTITY CASCADE"
            )
            conn.commit()
            inicio_t = time.perf_counter()
            with cur.copy(
                "COPY clinic_paciente (id, nome, id_externo, telefone, email, created_at,"
                " updated_at) FROM STDIN"
            ) as copy:
                for pid, pk in pacientes.items():
                    copy.write_row((pk, f"Paciente {pid}", pid, "", "", agora, agora))
            with cur.copy(
                "COPY clinic_agendamento (id, paciente_id, dentista_id, data_hora,"
                " duracao_minutos, observacoes, status, active, fechamento_automatico,"
                " horario_estimado, cancelamento_tardio, id_externo, created_at, updated_at)"
                " FROM STDIN"
            ) as copy:
                for n, (pk, inicio, faltou, aid) in enumerate(agendamentos, 1):
                    copy.write_row(
                        (
                            n,
                            pk,
                            dentista,
                            inicio,
                            30,
                            "",
                            "faltou" if faltou else "agendado",
                            not faltou,
                            True,
                            True,
                            False,
                            aid,
                            agora,
                            agora,
                        )
                    )
            with cur.copy(
                "COPY clinic_historicostatus (agendamento_id, status_anterior, status_novo,"
                " registrado_em, task_id, motivo) FROM STDIN"
            ) as copy:
                for n, (_pk, _inicio, faltou, _aid) in enumerate(agendamentos, 1):
                    copy.write_row((n, "", "faltou" if faltou else "agendado", agora, "", "COPY"))
            conn.commit()
            segundos = time.perf_counter() - inicio_t
    return {"linhas": len(agendamentos), "segundos": segundos}


def _filho(modo: str, url: str) -> dict:
    saida = subprocess.run(
        [sys.executable, "-m", "bench.importacao", f"--{modo}", url],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "NEXKODONTO_VAR_DIR": os.environ.get(
                "NEXKODONTO_VAR_DIR", tempfile.mkdtemp(prefix="nxk-bench-")
            ),
        },
    )
    return json.loads(saida.stdout.strip().splitlines()[-1])


def _recriar_pg(url: str) -> None:
    nome = urlparse(url).path.lstrip("/")
    base = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(base.replace("postgres://", "postgresql://"), autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{nome}"')
        c.execute(f'CREATE DATABASE "{nome}"')


def _maquina() -> str:
    memoria = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    carga = Path("/proc/loadavg").read_text().split()[0]
    return (
        f"{os.cpu_count()} cores, {memoria} GiB, Python {platform.python_version()}, "
        f"1-min load {carga} at start"
    )


def main() -> None:
    """Run the benchmark and update docs/PERFORMANCE.md."""
    if not ARQUIVO.exists():
        raise SystemExit(f"data file not found: {ARQUIVO}")
    url_pg = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_importacao"
    )
    maquina = _maquina()
    _recriar_pg(url_pg)
    pg = _filho("importar", url_pg)
    copy = _filho("copy", url_pg)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = _filho("importar", f"sqlite:///{tmp}/bench.sqlite3")
    _recriar_pg(url_pg)  # leave nothing big behind
    linhas = [
        ("importar_noshow, PostgreSQL", pg),
        ("importar_noshow, SQLite", sqlite),
        ("COPY of the same rows, PostgreSQL (floor)", copy),
    ]
    tabela = documento.tabela(
        ["run", "rows", "seconds", "rows/s"],
        [
            [nome, f"{n:,}", f"{seg:.2f}", f"{n / seg:,.0f}"]
            for nome, n, seg in ((nome, m["linhas"], m["segundos"]) for nome, m in linhas)
        ],
    )
    razao = pg["segundos"] / copy["segundos"]
    texto = "\n".join(
        [
            "## 5. Import of the real file (`python -m bench.importacao`)",
            "",
            f"{time.strftime('%Y-%m-%d')}; {maquina}.",
            "",
            tabela,
            "",
            f"importar_noshow / COPY on PostgreSQL: **{razao:.1f}×**. Target ≥ 10,000 rows/s on "
            f"PostgreSQL: **{'met' if pg['linhas'] / pg['segundos'] >= 10000 else 'not met'}** "
            f"({pg['linhas'] / pg['segundos']:,.0f} rows/s). The import also parses and "
            "validates every field, counts quirks, and checks each chunk's counts; COPY "
            "writes prepared rows. On a loaded machine both slow down alike: compare the ratio.",
        ]
    )
    documento.publicar("importacao", texto, escrever=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--importar":
        print(json.dumps(_medir_importacao(sys.argv[2])))
    elif len(sys.argv) == 3 and sys.argv[1] == "--copy":
        print(json.dumps(_medir_copy(sys.argv[2])))
    else:
        main()
