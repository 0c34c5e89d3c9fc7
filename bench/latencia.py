"""Benchmark 6: save-to-closed latency, and what the on-commit enqueue adds to a save.

``python -m bench.latencia [--saves 1000] [--sem-esperar-carga]``

A real ``celery -A core worker`` (concurrency 2) on real Redis (DB 8) and a
fresh PostgreSQL database ``bench2_latencia``. This process saves past
appointments one at a time through ``services.agendamento_criar(...,
permitir_retroativo=True)``, alternating:

* **signal connected** (the production path): the ``post_save`` receiver
  registers ``enfileirar_finalizacao`` with ``transaction.on_commit``. That
  callback is wrapped here to note the wall-clock instant it starts — right
  after the COMMIT, before the publish. Then the row is polled (one
  ``SELECT active`` every ~1 ms) until the worker's close is visible; the
  next save starts only then, so the worker is idle at every save.
* **signal disconnected** (``post_save.disconnect(..., dispatch_uid=...)``):
  the same save, nothing published.

Reported: commit → close visible (poll), commit → the task's ``now``
(``HistoricoStatus.registrado_em``, i.e. the task started), and the median
save time with and without the signal.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from bench import documento, processos

BANCO, REDIS_DB = "bench2_latencia", 8
AQUECIMENTO = 20  # saves of each kind not counted (connections, caches, imports)


def medir(saves: int) -> dict:
    """Run ``saves`` connected + ``saves`` disconnected saves (plus warm-up); return samples."""
    from django.db import connection
    from django.db.models.signals import post_save
    from django.utils import timezone

    from apps.clinic import services, signals
    from apps.clinic.models import Agendamento, Atendimento, Dentista, HistoricoStatus, Paciente

    paciente = Paciente.objects.create(nome="Paciente Bench")
    dentista = Dentista.objects.create(nome="Dentista Bench")
    original = signals.enfileirar_finalizacao
    commit_em: dict[int, float] = {}
    publicar_s: list[float] = []

    def enfileirar_medido(agendamento_id: int) -> bool:
        commit_em[agendamento_id] = time.time()  # first on_commit callback: just committed
        t = time.perf_counter()
        ok = original(agendamento_id)
        publicar_s.append(time.perf_counter() - t)
        return ok

    signals.enfileirar_finalizacao = enfileirar_medido
    base = timezone.now().replace(second=0, microsecond=0) - timedelta(days=2)
    com_sinal: list[tuple[int, float, float]] = []  # (id, save s, seen closed at)
    sem_sinal: list[float] = []
    timeouts = 0
    try:
        for i in range(2 * (saves + AQUECIMENTO)):
            conectado = i % 2 == 0
            if not conectado:
                post_save.disconnect(
                    signals.agendamento_salvo,
                    sender=Agendamento,
                    dispatch_uid="clinic.agendamento_vencido_enfileirar",
                )
            t0 = time.perf_counter()
            ag = services.agendamento_criar(
                paciente=paciente,
                dentista=dentista,
                data_hora=base - timedelta(minutes=30 * i),
                permitir_retroativo=True,
            )
            dt = time.perf_counter() - t0
            if not conectado:
                post_save.connect(
                    signals.agendamento_salvo,
                    sender=Agendamento,
                    dispatch_uid="clinic.agendamento_vencido_enfileirar",
                )
                if i // 2 >= AQUECIMENTO:
                    sem_sinal.append(dt)
                continue
            limite = time.monotonic() + 10
            with connection.cursor() as cursor:
                while True:
                    cursor.execute("SELECT active FROM clinic_agendamento WHERE id = %s", [ag.pk])
                    if not cursor.fetchone()[0]:
                        visto = time.time()
                        break
                    if time.monotonic() > limite:
                        visto = float("nan")
                        timeouts += 1
                        break
                    time.sleep(0.001)
            if i // 2 >= AQUECIMENTO:
                com_sinal.append((ag.pk, dt, visto))
    finally:
        signals.enfileirar_finalizacao = original

    ids = [pk for pk, _dt, _v in com_sinal]
    registrado = dict(
        HistoricoStatus.objects.filter(agendamento_id__in=ids, status_novo="concluido").values_list(
            "agendamento_id", "registrado_em"
        )
    )
    fechados = Atendimento.objects.filter(agendamento_id__in=ids).count()
    historicos = HistoricoStatus.objects.filter(
        agendamento_id__in=ids, status_novo="concluido"
    ).count()
    abertos_sem_sinal = Agendamento.objects.filter(active=True).count()
    return {
        "visivel": [v - commit_em[pk] for pk, _dt, v in com_sinal if v == v],
        "inicio_tarefa": [registrado[pk].timestamp() - commit_em[pk] for pk in ids],
        "save_com": [dt for _pk, dt, _v in com_sinal],
        "save_sem": sem_sinal,
        "publicar": publicar_s[AQUECIMENTO:],
        "timeouts": timeouts,
        "fechados": fechados,
        "historicos": historicos,
        "abertos_sem_sinal": abertos_sem_sinal,
        "n": len(ids),
    }


def relatorio(r: dict, maquina: str, carga_ini, carga_fim, quando: str) -> str:
    """The Markdown section (and the printed table)."""

    def ms(x: float) -> str:
        return f"{x * 1000:.1f}"

    def linha(nome: str, xs: list[float], alvo50: str = "", alvo99: str = "") -> list:
        return [
            nome,
            len(xs),
            ms(processos.percentil(xs, 50)),
            ms(processos.percentil(xs, 90)),
            ms(processos.percentil(xs, 99)),
            ms(max(xs)),
            alvo50,
            alvo99,
        ]

    p50 = processos.percentil(r["visivel"], 50)
    p99 = processos.percentil(r["visivel"], 99)
    ok50, ok99 = p50 < 0.100, p99 < 0.500
    t = documento.tabela(
        ["measure", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "target p50", "target p99"],
        [
            linha(
                "commit → close visible (poll)",
                r["visivel"],
                f"< 100: {'met' if ok50 else 'MISSED'}",
                f"< 500: {'met' if ok99 else 'MISSED'}",
            ),
            linha("commit → task's `now` (task started)", r["inicio_tarefa"]),
            linha("save, signal connected", r["save_com"]),
            linha("save, signal disconnected", r["save_sem"]),
            linha("the publish alone (inside on_commit)", r["publicar"]),
        ],
    )
    med_com, med_sem = statistics.median(r["save_com"]), statistics.median(r["save_sem"])
    custo = med_com - med_sem
    return f"""## 6. Save-to-closed latency

Measured {quando} on {maquina}. Load average (1/5/15 min) at the start:
{processos.fmt_carga(carga_ini)}; at the end: {processos.fmt_carga(carga_fim)}.

`python -m bench.latencia`: a real `celery -A core worker --concurrency 2`
(INFO log, the project's settings: acks late, prefetch 1) on Redis DB 8 and a
fresh PostgreSQL database; {r["n"]:,} saves of a past appointment through
`services.agendamento_criar(..., permitir_retroativo=True)`, one at a time,
each waiting for its close (so the worker is idle at each save), alternating
with {len(r["save_sem"]):,} identical saves with the `post_save` receiver
disconnected; {AQUECIMENTO} of each kind not counted. *Commit* is the instant
the first `on_commit` callback (the signal's publish, wrapped to note the
time) starts; *close visible* is when this process's `SELECT active` (polled
about every 1.1 ms, so that is the resolution) first sees `false`; *task's
`now`* is `HistoricoStatus.registrado_em`, the `timezone.now()` the task took
before claiming the row.

{t}

Median cost the on-commit enqueue adds to a save: **{ms(custo)} ms**
({ms(med_com)} vs {ms(med_sem)} ms, +{custo / med_sem * 100:.0f}%); the publish
itself has a median of {ms(statistics.median(r["publicar"]))} ms.
Check: {r["fechados"]:,} visit records and {r["historicos"]:,} closing history
rows for the {r["n"]:,} measured saves, {r["timeouts"]} not closed within 10 s;
the disconnected saves stayed open ({r["abertos_sem_sinal"]:,} open rows, warm-up included).

Targets: p50 < 100 ms **{"met" if ok50 else "missed"}**, p99 < 500 ms
**{"met" if ok99 else "missed"}**.
"""


def main(argv: list[str] | None = None) -> None:
    """Run benchmark 6 and write its section of docs/PERFORMANCE.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument(
        "--sem-esperar-carga", action="store_true", help="do not wait for 1-min load < 0.8"
    )
    parser.add_argument("--nao-escrever", action="store_true", help="print only")
    args = parser.parse_args(argv)

    env = processos.preparar(BANCO, REDIS_DB)
    worker = None
    try:
        maquina = processos.maquina()
        worker = processos.iniciar_worker(env, concurrency=2, nome="latencia-worker")
        carga_ini = (
            processos.carga() if args.sem_esperar_carga else processos.aguardar_carga_baixa()
        )
        quando = processos.agora_texto()
        r = medir(args.saves)
        carga_fim = processos.carga()
    finally:
        if worker:
            worker.parar()
        processos.encerrar(BANCO, REDIS_DB)
    texto = relatorio(r, maquina, carga_ini, carga_fim, quando)
    print(texto)
    if not args.nao_escrever:
        documento.escrever_secao("latencia", texto)


if __name__ == "__main__":
    main()
