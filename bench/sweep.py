"""Benchmarks 1 and 2 of issue 5: the sweep vs the plan's per-row loop, and vs the SQL floor.

For each size (1,000 / 10,000 / 100,000 due appointments, plus as many
future ones) the data is truncated and reloaded before each of three
variants, which close the same due rows:

- ``loop``: the per-row loop of the original plan (the reference);
- ``project``: ``apps.clinic.services.finalizar_agendamentos_vencidos``;
- ``floor``: the minimum SQL with the same effects, in one transaction.

Usage: ``python -m bench.sweep [--sizes 1000,10000,100000] [--no-write]``.
"""

from __future__ import annotations

import argparse
import sys

from bench import common, documento


def fechar_com_loop(*, now) -> int:
    """The plan's loop: per due appointment one UPDATE, one existence check, one INSERT.

    One SELECT lists the due appointments, then each row is closed in
    autocommit (as the plan wrote it, no transaction around the loop). It
    writes no history row: the plan had none. Returns how many it closed.
    """
    from apps.clinic.models import Agendamento, Atendimento
    from apps.clinic.selectors import agendamentos_vencidos
    from apps.clinic.services import DIAGNOSTICO_AUTOMATICO, TRATAMENTO_PADRAO

    fechados = 0
    for id_, observacoes in list(agendamentos_vencidos(now=now).values_list("id", "observacoes")):
        Agendamento.objects.filter(pk=id_).update(
            status=Agendamento.Status.CONCLUIDO, active=False, updated_at=now
        )
        if not Atendimento.objects.filter(agendamento_id=id_).exists():
            Atendimento.objects.create(
                agendamento_id=id_,
                diagnostico=DIAGNOSTICO_AUTOMATICO,
                tratamento_realizado=observacoes if observacoes.strip() else TRATAMENTO_PADRAO,
                origem=Atendimento.Origem.AUTOMATICO,
            )
        fechados += 1
    return fechados


VENCIDOS_SQL = "FROM clinic_agendamento WHERE active AND fechamento_automatico AND fim < %(limite)s"


def fechar_com_piso(*, now) -> int:
    """The floor: three statements in one transaction, the same effects as the sweep.

    One ``INSERT … SELECT … ON CONFLICT DO NOTHING`` for the visit records,
    one ``INSERT … SELECT`` for the history rows, one ``UPDATE``. It does not
    check for deleted patients/dentists or an end before the start (the
    sweep's bad-row guard). Returns how many appointments it closed.
    """
    from django.db import connection, transaction

    from apps.clinic.selectors import limite_finalizacao
    from apps.clinic.services import (
        DIAGNOSTICO_AUTOMATICO,
        MOTIVO_FINALIZACAO_AUTOMATICA,
        TRATAMENTO_PADRAO,
    )

    params = {
        "limite": limite_finalizacao(now=now),
        "now": now,
        "diag": DIAGNOSTICO_AUTOMATICO,
        "trat": TRATAMENTO_PADRAO,
        "motivo": MOTIVO_FINALIZACAO_AUTOMATICA,
    }
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO clinic_atendimento (agendamento_id, diagnostico, tratamento_realizado,"
            " origem, created_at, updated_at)"
            " SELECT id, %(diag)s,"
            " CASE WHEN btrim(observacoes) = '' THEN %(trat)s ELSE observacoes END,"
            " 'automatico', %(now)s, %(now)s " + VENCIDOS_SQL + " ON CONFLICT DO NOTHING",
            params,
        )
        cur.execute(
            "INSERT INTO clinic_historicostatus (agendamento_id, status_anterior, status_novo,"
            " registrado_em, task_id, motivo)"
            " SELECT id, status, 'concluido', %(now)s, '', %(motivo)s " + VENCIDOS_SQL,
            params,
        )
        cur.execute(
            "UPDATE clinic_agendamento SET status = 'concluido', active = false,"
            " updated_at = %(now)s WHERE active AND fechamento_automatico"
            " AND fim < %(limite)s",
            params,
        )
        return cur.rowcount


def fechar_com_projeto(*, now) -> int:
    """The project's sweep, as the periodic task runs it (default batch size)."""
    from apps.clinic.services import finalizar_agendamentos_vencidos

    return finalizar_agendamentos_vencidos(now=now)


VARIANTES = {
    "loop": fechar_com_loop,
    "project": fechar_com_projeto,
    "floor": fechar_com_piso,
}


def verificar(n: int, variante: str) -> None:
    """Fail loudly unless ``n`` due rows were closed with one visit record each."""
    abertos_vencidos = common.contar("clinic_agendamento", "active AND data_hora < now()")
    atendimentos = common.contar("clinic_atendimento", "origem = 'automatico'")
    historicos = common.contar("clinic_historicostatus")
    futuros = common.contar("clinic_agendamento", "active AND data_hora > now()")
    esperado_hist = 0 if variante == "loop" else n
    if (abertos_vencidos, atendimentos, historicos, futuros) != (0, n, esperado_hist, n):
        raise AssertionError(
            f"{variante}: due still open {abertos_vencidos}, visit records {atendimentos},"
            f" history {historicos}, future open {futuros} (expected 0, {n}, {esperado_hist}, {n})"
        )


def rodar(tamanhos: list[int]) -> dict[int, dict[str, common.Medida]]:
    """Load, close and check each size with each variant; return the measurements."""
    from django.utils import timezone

    resultados: dict[int, dict[str, common.Medida]] = {}
    for n in tamanhos:
        resultados[n] = {}
        for variante, funcao in VARIANTES.items():
            now = timezone.now()
            common.carregar(now=now, vencidos=n, futuros=n)
            medida, fechados = common.medir(lambda f=funcao, t=now: f(now=t))
            if fechados != n:
                raise AssertionError(f"{variante} closed {fechados} of {n}")
            verificar(n, variante)
            resultados[n][variante] = medida
            print(
                f"  {n:>7,} due  {variante:<8} {medida.segundos:9.3f} s"
                f"  {medida.comandos:>8,} statements",
                file=sys.stderr,
                flush=True,
            )
    return resultados


def relatorio(resultados: dict[int, dict[str, common.Medida]], maquina: str, carga: str) -> str:
    """The Markdown section: both tables, the targets and the machine."""
    linhas1, linhas2 = [], []
    for n, m in resultados.items():
        loop, proj, piso = m["loop"], m["project"], m["floor"]
        linhas1.append(
            [
                common.fmt_n(n),
                f"{common.fmt_s(loop.segundos)} ({common.fmt_n(loop.comandos)})",
                f"{common.fmt_s(proj.segundos)} ({common.fmt_n(proj.comandos)})",
                f"**{loop.segundos / proj.segundos:.1f}×**",
                f"{loop.segundos / piso.segundos:.1f}×",
            ]
        )
        linhas2.append(
            [
                common.fmt_n(n),
                f"{common.fmt_s(proj.segundos)} ({common.fmt_n(proj.comandos)})",
                f"{common.fmt_s(piso.segundos)} ({common.fmt_n(piso.comandos)})",
                f"**{proj.segundos / piso.segundos:.2f}×**",
            ]
        )
    maior = max(resultados)
    r1 = resultados[maior]["loop"].segundos / resultados[maior]["project"].segundos
    r2 = resultados[maior]["project"].segundos / resultados[maior]["floor"].segundos
    alvo1 = "met" if r1 >= 50 else "**missed**"
    alvo2 = "met" if r2 <= 2 else "**missed**"
    t1 = documento.tabela(
        [
            "due appointments",
            "loop s (statements)",
            "project s (statements)",
            "loop / project",
            "loop / floor (the ceiling)",
        ],
        linhas1,
    )
    t2 = documento.tabela(
        ["due appointments", "project s (statements)", "floor s (statements)", "project / floor"],
        linhas2,
    )
    return f"""## 1. Sweep vs the plan's per-row loop

{maquina}
Load average (1/5/15 min) at the end: {carga}.

Data per row: `common.carregar` truncates and loads N due open appointments
plus N future ones (200 dentists, 10,000 patients, 30-minute slots that never
overlap, so the exclusion constraint and its GiST index are live), then
`VACUUM ANALYZE` + `CHECKPOINT`; this is repeated before each variant. Seconds
are wall-clock for one call; statements are those Django executes (counted
with `connection.execute_wrapper`; BEGIN/COMMIT not included).

- **loop** (`bench.sweep.fechar_com_loop`): the original plan. One SELECT of
  the due ids, then per row, in autocommit: `UPDATE`, `EXISTS` on the visit
  record, `INSERT`. It writes no history row (the plan had none), so it does
  less than the sweep.
- **project**: `finalizar_agendamentos_vencidos(now=now)`, batches of
  `FINALIZACAO_TAMANHO_LOTE` (2,000).

{t1}

Target: project at least 50× faster than the loop at {common.fmt_n(maior)} —
{alvo1} ({r1:.1f}×). The last column is the loop against the SQL floor of
benchmark 2: no implementation of the sweep can beat that ratio.

## 2. Sweep vs the SQL floor

The same data, closed by **floor** (`bench.sweep.fechar_com_piso`): one
transaction with `INSERT … SELECT … ON CONFLICT DO NOTHING` (visit records),
`INSERT … SELECT` (history), `UPDATE`. Same effects as the sweep, minus its
bad-row guard (deleted patient/dentist, end not after start) and its row locks.

{t2}

Target: project within 2× the floor at {common.fmt_n(maior)} — {alvo2} ({r2:.2f}×).
"""


def main(argv: list[str] | None = None) -> int:
    """Run benchmarks 1 and 2, print the tables, update docs/PERFORMANCE.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    tamanhos = [int(t) for t in args.sizes.split(",")]

    common.configurar()
    maquina = common.maquina()
    print(maquina, file=sys.stderr)
    resultados = rodar(tamanhos)
    common.truncar()
    texto = relatorio(resultados, maquina, common.carga())
    documento.publicar("sweep", texto, escrever=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
