"""Benchmark 4 of issue 5: several processes sweeping the same due appointments together.

For each process count (1, 2 and 4 by default) the data is truncated and
reloaded (``common.carregar``: N due open appointments plus N future ones),
then that many OS processes, each with its own database connection, call
``finalizar_agendamentos_vencidos(now=now)`` at the same instant (each waits
on its stdin until all are ready). The wall-clock time runs from that start
to the last process's answer. Afterwards the database must hold exactly one
visit record and one history row per due appointment, none still open, and
the closes the processes report must add up to N.

In production beat's sweep holds a Redis lock, so two *periodic* sweeps do
not run together; what does run together is the sweep with
``manage.py finalizar_agendamentos`` started by an operator, with the
per-appointment tasks, and with a second beat started by mistake. The
service's claim (``FOR UPDATE SKIP LOCKED`` + conditional ``UPDATE``) is
what keeps those exact; this measures what it costs or gains.

Usage: ``python -m bench.concorrencia [--due 100000] [--processes 1,2,4]
[--repeats 3] [--no-write]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

from bench import common, documento


def filho(now_iso: str) -> int:
    """Child mode: set Django up, say ``pronto``, wait for a line, sweep, print JSON.

    Output (one line): ``{"fechados": int, "segundos": float}``, seconds of
    the sweep call alone (Django's start-up is before the barrier).
    """
    import django

    django.setup()
    from datetime import datetime

    from django.db import connection

    from apps.clinic.services import finalizar_agendamentos_vencidos

    now = datetime.fromisoformat(now_iso)
    connection.ensure_connection()  # the connect is not part of the race
    print("pronto", flush=True)
    sys.stdin.readline()
    inicio = time.perf_counter()
    fechados = finalizar_agendamentos_vencidos(now=now)
    segundos = time.perf_counter() - inicio
    print(json.dumps({"fechados": fechados, "segundos": segundos}), flush=True)
    return 0


@dataclass
class Rodada:
    """One run: processes, wall-clock seconds, closes reported by each process."""

    processos: int
    segundos: float
    fechados: list[int]
    segundos_por_processo: list[float]


def rodar_uma(n: int, processos: int) -> Rodada:
    """Load ``n`` due + ``n`` future rows, sweep them with ``processos`` processes, check."""
    from django.db import connections
    from django.utils import timezone

    now = timezone.now()
    common.carregar(now=now, vencidos=n, futuros=n)
    connections.close_all()  # the children's connections are the only ones working
    env = dict(os.environ, BENCH_DATABASE_URL=common.BENCH_DATABASE_URL)
    filhos = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.concorrencia", "--child", now.isoformat()],
            cwd=common.RAIZ,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processos)
    ]
    try:
        for f in filhos:
            linha = f.stdout.readline().strip()
            if linha != "pronto":
                raise RuntimeError(f"child did not start: {linha!r}")
        inicio = time.perf_counter()
        for f in filhos:
            f.stdin.write("go\n")
            f.stdin.flush()
        respostas = [json.loads(f.stdout.readline()) for f in filhos]
        segundos = time.perf_counter() - inicio
        for f in filhos:
            if f.wait(60) != 0:
                raise RuntimeError(f"child exited with {f.returncode}")
    finally:
        for f in filhos:
            if f.poll() is None:
                f.kill()
    rodada = Rodada(
        processos,
        segundos,
        [r["fechados"] for r in respostas],
        [r["segundos"] for r in respostas],
    )
    verificar(n, rodada)
    return rodada


def verificar(n: int, rodada: Rodada) -> None:
    """Fail unless each due row was closed once, with one visit record and one history row."""
    contagens = {
        "closes reported": sum(rodada.fechados),
        "visit records": common.contar("clinic_atendimento"),
        "appointments with a visit record": common.contar(
            "clinic_agendamento a",
            "EXISTS (SELECT 1 FROM clinic_atendimento t WHERE t.agendamento_id = a.id)",
        ),
        "history rows": common.contar("clinic_historicostatus"),
        "appointments with a history row": common.contar(
            "clinic_agendamento a",
            "EXISTS (SELECT 1 FROM clinic_historicostatus h WHERE h.agendamento_id = a.id)",
        ),
        "closed (concluido, not active)": common.contar(
            "clinic_agendamento", "NOT active AND status = 'concluido'"
        ),
    }
    erradas = {k: v for k, v in contagens.items() if v != n}
    abertos_futuros = common.contar("clinic_agendamento", "active")
    if erradas or abertos_futuros != n:
        raise AssertionError(
            f"{rodada.processos} processes: expected {n} of each, got {erradas};"
            f" open rows {abertos_futuros} (expected the {n} future ones)"
        )


def relatorio(n: int, rodadas: dict[int, list[Rodada]], maquina: str, carga: str) -> str:
    """The Markdown section."""
    base = statistics.median(r.segundos for r in rodadas[min(rodadas)])
    linhas = []
    for p, lista in rodadas.items():
        med = statistics.median(r.segundos for r in lista)
        fechados = [sorted(r.fechados, reverse=True) for r in lista]
        linhas.append(
            [
                str(p),
                " / ".join(common.fmt_s(r.segundos) for r in lista),
                f"**{common.fmt_s(med)}**",
                common.fmt_n(round(n / med)),
                f"**{base / med:.2f}×**",
                "; ".join(" + ".join(common.fmt_n(x) for x in f) for f in fechados),
            ]
        )
    quatro = max(rodadas)
    ganho = base / statistics.median(r.segundos for r in rodadas[quatro])
    alvo = "met" if ganho > 1 else "**missed**"
    t = documento.tabela(
        [
            "processes",
            "seconds, each run",
            "median s",
            "rows/s",
            "speed-up vs 1",
            "closes per process, each run",
        ],
        linhas,
    )
    return f"""## 4. Concurrent sweeps

{maquina}
Load average (1/5/15 min) at the end: {carga}.

`python -m bench.concorrencia`: before each run `common.carregar` truncates and
loads {common.fmt_n(n)} due open appointments plus {common.fmt_n(n)} future ones
(as in benchmark 1), then *k* OS processes, each with its own connection,
call `finalizar_agendamentos_vencidos(now=now)` (batches of
`FINALIZACAO_TAMANHO_LOTE`, 2,000) at the same instant. Seconds run from
that start to the last process's answer. After every run the benchmark
checks, and fails otherwise, that the closes reported add up to
{common.fmt_n(n)} and that there are exactly {common.fmt_n(n)} visit records,
{common.fmt_n(n)} appointments with one, {common.fmt_n(n)} history rows on
{common.fmt_n(n)} appointments, and no due appointment left open.

{t}

Target: {quatro} processes faster than one, with exactly one visit record
each — {alvo} ({ganho:.2f}×; every run passed the check above).

Each process claims its batch with `SELECT … FOR UPDATE SKIP LOCKED`, so the
processes never wait for each other's rows; what they share is the two
cores (each process's PostgreSQL backend does most of the work: index
maintenance, the GiST exclusion index included) and the WAL. In production
beat's sweep runs one at a time (the Redis lock); what runs beside it is
`manage.py finalizar_agendamentos`, the per-appointment tasks, or a second
beat started by mistake (`docs/RELIABILITY.md`).
"""


def main(argv: list[str] | None = None) -> int:
    """Run benchmark 4, print the table, update docs/PERFORMANCE.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--due", type=int, default=100_000)
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--child", metavar="NOW", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return filho(args.child)

    common.configurar()
    maquina = common.maquina()
    print(maquina, file=sys.stderr)
    contagens = [int(p) for p in args.processes.split(",")]
    rodadas: dict[int, list[Rodada]] = {p: [] for p in contagens}
    # Interleaved (1, 2, 4, 1, 2, 4, …) so a change of the machine's load hits all alike.
    for _ in range(args.repeats):
        for p in contagens:
            r = rodar_uma(args.due, p)
            rodadas[p].append(r)
            print(
                f"  {p} process(es): {r.segundos:7.2f} s, closes {r.fechados}",
                file=sys.stderr,
                flush=True,
            )
    common.truncar()
    texto = relatorio(args.due, rodadas, maquina, common.carga())
    documento.publicar("concorrencia", texto, escrever=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
