"""Benchmark 3 of issue 5: the idle sweep on 1,000,000 appointments, and 1,000 due among them.

Loads 1,000,000 appointments none due (closed history with its visit
records and history rows, plus open future ones), times the sweep (median
of ``--runs`` calls), captures the sweep's own batch query and pastes its
``EXPLAIN (ANALYZE, BUFFERS)``, which must use ``agendamento_aberto_fim_idx``.
Then reopens 1,000 past rows (due) and times one sweep that closes them.

Usage: ``python -m bench.idle [--rows 1000000] [--runs 50] [--no-write]``.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import common, documento

INDICE = "agendamento_aberto_fim_idx"
FUTUROS = 50_000


def explicar(sql: str, params) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of ``sql`` inside a transaction that is rolled back."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plano = "\n".join(linha[0] for linha in cur.fetchall())
        transaction.set_rollback(True)
    return plano


def tempos_da_varredura(*, now, runs: int) -> list[float]:
    """Seconds of ``runs`` sweep calls (after 5 warm-up calls)."""
    from apps.clinic.services import finalizar_agendamentos_vencidos

    for _ in range(5):
        finalizar_agendamentos_vencidos(now=now)
    tempos = []
    for _ in range(runs):
        inicio = time.perf_counter()
        fechados = finalizar_agendamentos_vencidos(now=now)
        tempos.append(time.perf_counter() - inicio)
        if fechados:
            raise AssertionError(f"an idle sweep closed {fechados}")
    return tempos


def reabrir(n: int) -> None:
    """Make ``n`` cancelled past appointments open again: due, without a visit record."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE clinic_agendamento SET status = 'agendado', active = true"
            " WHERE id IN (SELECT id FROM clinic_agendamento WHERE status = 'cancelado'"
            " ORDER BY id DESC LIMIT %s)",
            [n],
        )
    common.preparar()


def main(argv: list[str] | None = None) -> int:
    """Run benchmark 3, print the results, update docs/PERFORMANCE.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.rows <= FUTUROS + args.due:
        parser.error(f"--rows must exceed {FUTUROS:,} future rows + --due")

    common.configurar()
    from django.utils import timezone

    from apps.clinic.services import finalizar_agendamentos_vencidos

    maquina = common.maquina()
    print(maquina, file=sys.stderr)
    now = timezone.now()
    t0 = time.perf_counter()
    common.carregar(now=now, futuros=FUTUROS, historico=args.rows - FUTUROS)
    print(f"  loaded {args.rows:,} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    # Idle: nothing due.
    tempos = tempos_da_varredura(now=now, runs=args.runs)
    with common.contando() as contador:
        finalizar_agendamentos_vencidos(now=now)
    comandos_ocioso = contador.n
    med = common.mediana(tempos)
    print(f"  idle sweep median {med * 1000:.3f} ms over {args.runs}", file=sys.stderr)

    # 1,000 due among the same rows; its statements are kept for EXPLAIN.
    reabrir(args.due)
    capturados: list = []
    medida, fechados = common.medir(
        lambda: finalizar_agendamentos_vencidos(now=now), sqls=capturados
    )
    if fechados != args.due:
        raise AssertionError(f"the sweep closed {fechados} of {args.due}")
    print(f"  {args.due:,} due: {medida.segundos:.3f} s", file=sys.stderr)
    abertos = common.contar("clinic_agendamento", "active")

    # The sweep's SELECTs on clinic_agendamento (a probe, if any, and the batch
    # query), explained on the data that is idle again.
    from django.db import connection

    consultas = [
        (sql, params)
        for sql, params in capturados
        if sql.lstrip().upper().startswith("SELECT") and "clinic_agendamento" in sql
    ]
    planos = []
    usa_indice = any("FOR UPDATE" in sql for sql, _ in consultas)
    for sql, params in consultas:
        plano = explicar(sql, params)
        usa_indice &= INDICE in plano and "clinic_agendamento_pkey" not in plano
        planos.append(
            f"```sql\n{connection.ops.compose_sql(sql, params)}\n```\n\n```\n{plano}\n```"
        )
    common.truncar()

    alvo_tempo = "met" if med <= 0.001 else "**missed**"
    alvo_plano = "met" if usa_indice else "**missed**"
    texto = f"""## 3. Idle sweep on 1,000,000 appointments

{maquina}
Load average (1/5/15 min) at the end: {common.carga()}.

Data: {args.rows:,} appointments — {args.rows - FUTUROS:,} closed in the past
(concluido with its visit record, faltou, cancelado; one history row each)
and {FUTUROS:,} open in the future ({abertos:,} open after the run below) —
loaded with `INSERT … SELECT generate_series`, then `VACUUM ANALYZE`.

{
        documento.tabela(
            ["measurement", "result", "statements"],
            [
                [
                    f"idle sweep, none due: median of {args.runs} calls (min / max)",
                    f"**{med * 1000:.3f} ms** ({min(tempos) * 1000:.3f} / "
                    f"{max(tempos) * 1000:.3f} ms)",
                    str(comandos_ocioso),
                ],
                [
                    f"sweep closing {args.due:,} due among {args.rows:,}",
                    f"{medida.segundos * 1000:.1f} ms",
                    str(medida.comandos),
                ],
            ],
        )
    }

Targets: median idle sweep ≤ 1 ms — {alvo_tempo}; the batch query uses the partial
index `{INDICE}` and never walks the primary key — {alvo_plano}.

The sweep's queries on the appointments, captured from the real
`finalizar_agendamentos_vencidos` call that closed the {args.due:,} due rows
(the batch query is `_finalizar_lote`'s: `agendamentos_vencidos(now)` + two
`Exists` + `FOR UPDATE SKIP LOCKED`), each explained with `EXPLAIN (ANALYZE,
BUFFERS)` on the data once it is idle again:

{(chr(10) * 2).join(planos)}
"""
    documento.publicar("idle", texto, escrever=not args.no_write)
    return 0 if usa_indice else 1


if __name__ == "__main__":
    raise SystemExit(main())
