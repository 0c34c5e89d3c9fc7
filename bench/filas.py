"""Benchmark 9: save-to-closed latency while a 200,000-row sweep runs, per worker layout.

``python -m bench.filas [--vencidos 200000] [--repeticoes 2] [--intervalo 0.5] [--nao-escrever]``

Against PostgreSQL ``BENCH_DATABASE_URL`` (truncated and reloaded, as
bench.sweep does) and Redis ``BENCH_REDIS_URL`` (default
``redis://127.0.0.1:6379/9``; emptied before each run). For each worker
layout, ``--repeticoes`` times:

1. load ``--vencidos`` due appointments (``bench.common.carregar``);
2. start the layout's real ``celery -A core worker`` process(es);
3. send the sweep (``verificar_e_finalizar_agendamentos_passados.delay()``, the
   "varredura" queue) and wait for its first batch to commit;
4. while it runs, save one past appointment every ``--intervalo`` seconds
   through ``services.agendamento_criar(..., permitir_retroativo=True)`` (its
   ``post_save`` publishes ``processar_agendamento_especifico`` on
   "finalizacao" after the commit), each with its own dentist and ending just
   before the save, so the running sweep (whose ``now`` is fixed at its
   start) never takes it: only its own task closes it;
5. measure, per save, commit → close visible (this process polls the open
   rows every ~5 ms).

Layouts: ``make run``'s worker (``--concurrency 2``, no ``-Q``: both queues);
one worker process (``--concurrency 1``, no ``-Q``); two workers of one
process each, one per queue (``-Q finalizacao`` and ``-Q varredura``).
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta

REDIS_DO_BENCH = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
# Before bench.common: its default REDIS_URL is for benchmarks that publish nothing.
os.environ["REDIS_URL"] = REDIS_DO_BENCH

from bench import common, documento, processos  # noqa: E402

LAYOUTS = {
    "make run (concurrency 2, no -Q)": [("worker", 2, None)],
    "one process (concurrency 1, no -Q)": [("worker", 1, None)],
    "two workers, one per queue (concurrency 1 each)": [
        ("worker-finalizacao", 1, "finalizacao"),
        ("worker-varredura", 1, "varredura"),
    ],
}
DURACAO_MINUTOS = 30


def _ambiente_dos_workers() -> dict[str, str]:
    """The environment of the worker processes: the bench's database and Redis, production log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    for variavel in ("CONN_MAX_AGE", "LOG_LEVEL"):  # this process's choices, not a worker's
        env.pop(variavel, None)
    env.update(
        DATABASE_URL=common.BENCH_DATABASE_URL,
        REDIS_URL=REDIS_DO_BENCH,
        NEXKODONTO_VAR_DIR=str(processos.VAR_DIR),
        SECRET_KEY="bench-secret-key-not-for-production",
        DJANGO_SETTINGS_MODULE="core.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def _iniciar_workers(layout: list[tuple[str, int, str | None]]) -> list[processos.Processo]:
    """Start each ``(name, concurrency, queue or None)`` worker, each ready before the next."""
    env = _ambiente_dos_workers()
    return [
        processos.iniciar_worker(env, concurrency=concorrencia, nome=f"filas-{nome}", fila=fila)
        for nome, concorrencia, fila in layout
    ]


def _limpar_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_DO_BENCH).flushdb()


def _uma_rodada(vencidos: int, intervalo: float, layout) -> dict:
    """Load, start the layout, sweep and save during it; return this run's samples."""
    from django.db import connection
    from django.utils import timezone
    from django_celery_results.models import TaskResult

    from apps.clinic import services, signals
    from apps.clinic.models import Dentista, HistoricoStatus, Paciente
    from apps.clinic.tasks import verificar_e_finalizar_agendamentos_passados

    common.carregar(now=timezone.now(), vencidos=vencidos)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE django_celery_results_taskresult")
    _limpar_redis()  # leftover messages and the sweep's lock of an earlier run
    workers = _iniciar_workers(layout)
    original = signals.enfileirar_finalizacao
    commit_em: dict[int, float] = {}

    def enfileirar_medido(agendamento_id: int) -> bool:
        commit_em[agendamento_id] = time.time()  # the first on_commit callback
        return original(agendamento_id)

    signals.enfileirar_finalizacao = enfileirar_medido
    fechado_em: dict[int, float] = {}
    durante: set[int] = set()
    try:
        inicio = time.monotonic()
        varredura = verificar_e_finalizar_agendamentos_passados.delay()
        with connection.cursor() as cursor:
            while True:  # the sweep's first batch committed: it is running
                cursor.execute(
                    "SELECT 1 FROM clinic_historicostatus WHERE task_id = %s LIMIT 1",
                    [varredura.id],
                )
                if cursor.fetchone():
                    break
                if time.monotonic() - inicio > 120:
                    raise TimeoutError("the sweep did not start within 120 s")
                time.sleep(0.01)
        comecou = time.monotonic()
        # A second later: every saved row then ends after the sweep's fixed `now`.
        proximo_save, terminou, ultima_consulta = comecou + 1.0, None, 0.0
        limite = comecou + 900
        while time.monotonic() < limite:
            agora = time.monotonic()
            if terminou is None and agora - ultima_consulta > 0.1:
                ultima_consulta = agora
                if varredura.ready():
                    terminou = agora
            if terminou is None and agora >= proximo_save:
                proximo_save += intervalo
                dentista = Dentista.objects.create(nome="Dentista Fila")
                # A patient per save too: while a close waits (one worker process), the
                # previous save is still open at an overlapping time, and one patient
                # cannot be in two places (agendamento_paciente_sem_sobreposicao).
                paciente = Paciente.objects.create(nome="Paciente Fila")
                ag = services.agendamento_criar(
                    paciente=paciente,
                    dentista=dentista,
                    data_hora=timezone.now() - timedelta(minutes=DURACAO_MINUTOS, seconds=1),
                    duracao_minutos=DURACAO_MINUTOS,
                    permitir_retroativo=True,
                )
                durante.add(ag.pk)
            abertos = [pk for pk in commit_em if pk not in fechado_em]
            if abertos:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT id FROM clinic_agendamento WHERE id = ANY(%s) AND NOT active",
                        [abertos],
                    )
                    visto = time.time()
                    for (pk,) in cursor.fetchall():
                        fechado_em[pk] = visto
            elif terminou is not None:
                break
            time.sleep(0.005)
        fechados_pela_varredura = varredura.get(timeout=60)
        duracao_varredura = (terminou or time.monotonic()) - inicio
    finally:
        signals.enfileirar_finalizacao = original
        for worker in workers:
            worker.parar()
    ids = sorted(durante)
    por_varredura = HistoricoStatus.objects.filter(
        agendamento_id__in=ids, status_novo="concluido", task_id=varredura.id
    ).count()
    # The sweep's end as the worker wrote it (wall clock): its result row's date_done.
    fim = TaskResult.objects.get(task_id=varredura.id).date_done.timestamp()
    return {
        "latencias": [fechado_em[pk] - commit_em[pk] for pk in ids if pk in fechado_em],
        "depois_da_varredura": sum(1 for pk in ids if fechado_em.get(pk, fim) >= fim),
        "nao_fechados": sum(1 for pk in ids if pk not in fechado_em),
        "por_varredura": por_varredura,
        "salvos": len(ids),
        "varredura_s": duracao_varredura,
        "varredura_fechou": fechados_pela_varredura,
    }


def medir(vencidos: int, repeticoes: int, intervalo: float) -> dict[str, dict]:
    """Every layout, ``repeticoes`` runs each; samples pooled per layout."""
    resultados = {}
    for nome, layout in LAYOUTS.items():
        junto: dict = {
            "latencias": [],
            "nao_fechados": 0,
            "depois_da_varredura": 0,
            "por_varredura": 0,
            "salvos": 0,
            "varreduras_s": [],
            "varredura_fechou": [],
        }
        for rodada in range(repeticoes):
            r = _uma_rodada(vencidos, intervalo, layout)
            print(
                f"{nome}, run {rodada + 1}: {r['salvos']} saves, sweep {r['varredura_s']:.1f} s, "
                f"p50 {processos.percentil(r['latencias'], 50) * 1000:.0f} ms, "
                f"max {max(r['latencias'] or [0]) * 1000:.0f} ms",
                flush=True,
            )
            junto["latencias"] += r["latencias"]
            junto["nao_fechados"] += r["nao_fechados"]
            junto["depois_da_varredura"] += r["depois_da_varredura"]
            junto["por_varredura"] += r["por_varredura"]
            junto["salvos"] += r["salvos"]
            junto["varreduras_s"].append(r["varredura_s"])
            junto["varredura_fechou"].append(r["varredura_fechou"])
        resultados[nome] = junto
    return resultados


def relatorio(resultados: dict, args, maquina: str, carga_ini, carga_fim, quando: str) -> str:
    """The Markdown section of docs/PERFORMANCE.md."""

    def ms(x: float) -> str:
        return f"{x * 1000:,.0f}"

    linhas = []
    for nome, r in resultados.items():
        xs = r["latencias"]
        linhas.append(
            [
                nome,
                f"{r['salvos']:,}",
                ms(processos.percentil(xs, 50)),
                ms(processos.percentil(xs, 95)),
                ms(max(xs)) if xs else "–",
                " / ".join(f"{s:.1f}" for s in r["varreduras_s"]),
                " / ".join(f"{n:,}" for n in r["varredura_fechou"]),
            ]
        )
    tabela = documento.tabela(
        [
            "worker layout",
            "saves during the sweep",
            "p50 ms",
            "p95 ms",
            "max ms",
            "sweep s (each run)",
            "sweep closed",
        ],
        linhas,
    )
    um = resultados["one process (concurrency 1, no -Q)"]
    padrao = resultados["make run (concurrency 2, no -Q)"]
    sweep_max = max(um["varreduras_s"])
    verificacao = "; ".join(
        f"{nome}: {r['depois_da_varredura']} of {r['salvos']} closed only after the sweep "
        f"ended, {r['nao_fechados']} not closed, {r['por_varredura']} closed by the sweep"
        for nome, r in resultados.items()
    )
    if um["salvos"] and um["depois_da_varredura"] == um["salvos"]:
        veredito = (
            "**With one worker process, every close waited for the whole sweep**: the "
            "process runs the sweep and, with prefetch 1 and acks late, takes no other "
            "message until the sweep ends, so a save's close waits for the rest of it "
            f"(the sweep took up to {sweep_max:.0f} s here for {args.vencidos:,} rows; a "
            "bigger backlog takes longer)."
        )
    else:
        veredito = (
            f"With one worker process, {um['depois_da_varredura']} of {um['salvos']} closes "
            "waited until the sweep ended."
        )
    compartilhada = (
        "\nThe machine was shared while this ran (other sessions' tests and builds: the load "
        "averages above), so the sweep took longer than it would on an idle machine; the "
        "layouts ran one after the other under the same kind of load.\n"
        if carga_ini[0] > 1.0
        else ""
    )
    return f"""## 9. Queues: save-to-closed latency during a {args.vencidos:,}-row sweep

Measured {quando} on {maquina}. Load average (1/5/15 min) at the start:
{processos.fmt_carga(carga_ini)}; at the end: {processos.fmt_carga(carga_fim)}.

`python -m bench.filas` (in `make bench`): for each worker layout, {args.repeticoes}
runs of: load {args.vencidos:,} due appointments, start the layout's real
`celery -A core worker` process(es) (INFO log, the project's settings: acks late,
prefetch 1, results in the database), send the sweep (queue "varredura"), and from
its first committed batch until it ends save one past appointment every
{args.intervalo} s through `services.agendamento_criar(..., permitir_retroativo=True)`
(its close is published on "finalizacao" after the commit). Each saved appointment
ends after the sweep's `now`, so only its own task can close it. Latency is from the
commit (the first `on_commit` callback) until this process, polling every ~5 ms,
sees the row closed; "sweep s" is from sending the sweep to its result being ready.
{compartilhada}
{tabela}

Check: {verificacao}.

{veredito} The default `make run` worker (2 processes, both queues) kept p95 at
{ms(processos.percentil(padrao["latencias"], 95))} ms during the sweep. So never run a
single worker with `--concurrency 1` on both queues: keep `--concurrency 2` or more
(the default, CELERY_WORKER_CONCURRENCY), or run one worker per queue
(`celery -A core worker -Q finalizacao` and `celery -A core worker -Q varredura`).
"""


def main(argv: list[str] | None = None) -> None:
    """Run benchmark 9 and write its section of docs/PERFORMANCE.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vencidos", type=int, default=200_000)
    parser.add_argument("--repeticoes", type=int, default=2)
    parser.add_argument("--intervalo", type=float, default=0.5, help="seconds between saves")
    parser.add_argument(
        "--sem-esperar-carga", action="store_true", help="do not wait for 1-min load < 0.8"
    )
    parser.add_argument("--nao-escrever", action="store_true", help="print only")
    args = parser.parse_args(argv)

    processos.VAR_DIR.mkdir(parents=True, exist_ok=True)
    common.configurar()
    maquina = processos.maquina()
    carga_ini = processos.carga() if args.sem_esperar_carga else processos.aguardar_carga_baixa()
    quando = processos.agora_texto()
    resultados = medir(args.vencidos, args.repeticoes, args.intervalo)
    carga_fim = processos.carga()
    common.truncar()
    _limpar_redis()
    texto = relatorio(resultados, args, maquina, carga_ini, carga_fim, quando)
    documento.publicar("filas", texto, escrever=not args.nao_escrever)


if __name__ == "__main__":
    main()
