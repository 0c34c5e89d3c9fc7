"""Benchmark 8: worker memory over 100,000 single-appointment tasks, and the 200,000-row sweep.

``python -m bench.memoria [--tarefas 100000] [--varredura 200000] [--sem-esperar-carga]``

A real ``celery -A core worker`` (concurrency 2, INFO log) on Redis DB 9 and a
fresh PostgreSQL database ``bench2_memoria``.

1. **Tasks**: ``processar_agendamento_especifico`` is published for a mix of
   ids — 10% due appointments (the task closes them: claim, update, history,
   visit record), 50% future ones (claim finds nothing), 40% ids that do not
   exist — in chunks, keeping under 2,000 messages queued. The RSS of each
   pool process (psutil) is read after the first 5,000 tasks (warm-up) and
   then every 25,000, each time with the queue drained and nothing unacked.
2. **Sweep**: 200,000 due appointments loaded with SQL, then one
   ``verificar_e_finalizar_agendamentos_passados``; the pool processes' RSS is
   sampled every 0.1 s until it returns.
"""

from __future__ import annotations

import argparse
import time

import psutil

from bench import documento, processos

BANCO, REDIS_DB = "bench2_memoria", 9
AQUECIMENTO = 5_000
PASSO = 25_000
LOTE_PUBLICACAO = 1_000
MAX_NA_FILA = 2_000

INSERIR = """
INSERT INTO clinic_agendamento (paciente_id, dentista_id, data_hora, duracao_minutos,
    observacoes, status, active, fechamento_automatico, horario_estimado,
    cancelamento_tardio, created_at, updated_at)
SELECT %s, %s, %s::timestamptz + interval '30 minutes' * g, 30,
    '', 'agendado', true, true, false, false, now(), now()
FROM generate_series(0, %s - 1) g
RETURNING id
"""


def _inserir(n: int, inicio, paciente_id: int, dentista_id: int) -> list[int]:
    """``n`` open appointments in 30-minute slots from ``inicio`` (SQL, no signal)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(INSERIR, [paciente_id, dentista_id, inicio, n])
        return [linha[0] for linha in cursor.fetchall()]


def _rss_filhos(worker_pid: int) -> dict[int, int]:
    """RSS in bytes of each pool process of the worker, by pid."""
    return {p.pid: p.memory_info().rss for p in psutil.Process(worker_pid).children()}


def _esperar_fila(cliente, maximo: int, timeout: float = 900) -> None:
    """Wait until at most ``maximo`` messages are queued (and, for 0, none unacked)."""
    fim = time.monotonic() + timeout
    while True:
        na_fila = cliente.llen("finalizacao")
        pendentes = cliente.hlen("unacked") if maximo == 0 else 0
        if na_fila <= maximo and pendentes == 0:
            return
        if time.monotonic() > fim:
            raise TimeoutError(f"{na_fila} queued, {pendentes} unacked after {timeout} s")
        time.sleep(0.05)


def medir_tarefas(worker_pid: int, n: int) -> dict:
    """Publish ``n`` single-appointment tasks; RSS of the pool after warm-up and every 25,000."""
    import redis
    from django.utils import timezone

    from apps.clinic.models import Agendamento, Atendimento, Dentista, Paciente
    from apps.clinic.tasks import processar_agendamento_especifico

    paciente = Paciente.objects.create(nome="Paciente Bench")
    dentistas = [Dentista.objects.create(nome=f"Dentista Bench {i}") for i in range(2)]
    agora = timezone.now()
    n_vencidos = n // 10
    vencidos = _inserir(
        n_vencidos,
        agora - timezone.timedelta(days=n_vencidos // 48 + 2),
        paciente.pk,
        dentistas[0].pk,
    )
    futuros = _inserir(1_000, agora + timezone.timedelta(days=30), paciente.pk, dentistas[1].pk)
    inexistente = max(futuros) + 1_000_000

    def ids():
        v = iter(vencidos)
        for k in range(n):
            r = k % 10
            if r == 0:
                yield next(v)
            elif r <= 5:
                yield futuros[k % len(futuros)]
            else:
                yield inexistente + k

    cliente = redis.Redis.from_url(f"{processos.REDIS}/{REDIS_DB}")
    pontos: list[tuple[int, dict[int, int], float]] = []
    publicados, t0 = 0, time.monotonic()
    marcos = [AQUECIMENTO, *range(PASSO, n + 1, PASSO)]
    if marcos[-1] != n:
        marcos.append(n)
    fonte = ids()
    for marco in marcos:
        while publicados < marco:
            _esperar_fila(cliente, MAX_NA_FILA - LOTE_PUBLICACAO)
            for _ in range(min(LOTE_PUBLICACAO, marco - publicados)):
                processar_agendamento_especifico.delay(next(fonte))
                publicados += 1
        _esperar_fila(cliente, 0)
        time.sleep(1)  # the last task's ack and log line
        pontos.append((marco, _rss_filhos(worker_pid), time.monotonic() - t0))
        print(f"  {marco:,} tasks: RSS {pontos[-1][1]}", flush=True)
    return {
        "pontos": pontos,
        "segundos": time.monotonic() - t0,
        "fechados": Atendimento.objects.filter(agendamento_id__in=vencidos).count(),
        "n_vencidos": len(vencidos),
        "abertos": Agendamento.objects.filter(active=True, pk__in=vencidos).count(),
    }


def medir_varredura(worker_pid: int, n: int) -> dict:
    """Load ``n`` due appointments, run one sweep through the worker, sample the pool's RSS."""
    from django.db import connection
    from django.utils import timezone

    from apps.clinic.models import Agendamento, Dentista, Paciente
    from apps.clinic.tasks import verificar_e_finalizar_agendamentos_passados

    paciente = Paciente.objects.create(nome="Paciente Varredura")
    dentista = Dentista.objects.create(nome="Dentista Varredura")
    _inserir(n, timezone.now() - timezone.timedelta(days=n // 48 + 2), paciente.pk, dentista.pk)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE clinic_agendamento")
    antes = _rss_filhos(worker_pid)
    pico = dict(antes)
    t0 = time.monotonic()
    resultado = verificar_e_finalizar_agendamentos_passados.delay()
    while not resultado.ready():
        for pid, rss in _rss_filhos(worker_pid).items():
            pico[pid] = max(pico.get(pid, 0), rss)
        if time.monotonic() - t0 > 900:
            raise TimeoutError("the sweep took more than 15 minutes")
        time.sleep(0.1)
    segundos = time.monotonic() - t0
    fechados = resultado.get(timeout=10)
    return {
        "antes": antes,
        "pico": pico,
        "segundos": segundos,
        "fechados": fechados,
        "abertos": Agendamento.objects.filter(active=True, dentista=dentista).count(),
        "n": n,
    }


def _mb(b: float) -> str:
    return f"{b / 2**20:.1f}"


def relatorio(t: dict, v: dict, maquina: str, carga_ini, carga_fim, quando: str) -> str:
    """The Markdown section (and the printed tables)."""
    pontos = t["pontos"]
    pids = sorted(pontos[0][1])
    linhas = []
    for marco, rss, seg in pontos:
        linhas.append(
            [f"{marco:,}", f"{seg:.0f}"]
            + [_mb(rss.get(pid, 0)) if pid in rss else "gone" for pid in pids]
        )
    base, final = pontos[0][1], pontos[-1][1]
    crescimentos = {pid: (final[pid] - base[pid]) / base[pid] for pid in pids if pid in final}
    mesmos = set(base) == set(final)
    pior = max(crescimentos.values()) if crescimentos else float("nan")
    ok_t = mesmos and pior < 0.10
    linhas.append(
        ["growth after warm-up", ""]
        + [f"{crescimentos[pid] * 100:+.1f}%" if pid in crescimentos else "-" for pid in pids]
    )
    tab_t = documento.tabela(
        ["tasks done", "s", *[f"pool process {i + 1} RSS MB" for i in range(len(pids))]], linhas
    )
    pico_max = max(v["pico"].values())
    ok_v = pico_max < 200 * 2**20
    tab_v = documento.tabela(
        ["rows", "sweep s", "rows/s", "pool RSS before MB", "peak MB", "target"],
        [
            [
                f"{v['n']:,}",
                f"{v['segundos']:.1f}",
                f"{v['fechados'] / v['segundos']:,.0f}",
                " / ".join(_mb(x) for x in v["antes"].values()),
                " / ".join(_mb(x) for x in v["pico"].values()),
                f"< 200 MB: {'met' if ok_v else 'MISSED'}",
            ]
        ],
    )
    total = pontos[-1][0]
    return f"""## 8. Worker memory

Measured {quando} on {maquina}. Load average (1/5/15 min) at the start:
{processos.fmt_carga(carga_ini)}; at the end: {processos.fmt_carga(carga_fim)}.

`python -m bench.memoria`: a real `celery -A core worker --concurrency 2`
(INFO log, project settings) on Redis DB 9 and a fresh PostgreSQL database.
RSS of each prefork pool process (psutil), read with the queue drained and
nothing unacked.

**{total:,} single-appointment tasks** (`processar_agendamento_especifico`):
10% due appointments (closed by the task: {t["fechados"]:,} of {t["n_vencidos"]:,},
{t["abertos"]} left open), 50% future ones, 40% ids that do not exist; published in
chunks of {LOTE_PUBLICACAO:,} with at most {MAX_NA_FILA:,} queued; {total / t["segundos"]:,.0f}
tasks/s overall. Warm-up: the first {AQUECIMENTO:,}.

{tab_t}

Same pool processes at the end: {"yes" if mesmos else "NO (a process was replaced)"}.
Target: growth after warm-up < 10% — **{"met" if ok_t else "missed"}**
(worst {pior * 100:+.1f}%).

**One sweep of {v["n"]:,} due appointments** (`verificar_e_finalizar_agendamentos_passados`
through the same worker, batches of `FINALIZACAO_TAMANHO_LOTE`; RSS sampled every 0.1 s;
it closed {v["fechados"]:,}, {v["abertos"]} left open):

{tab_v}

Target: peak < 200 MB — **{"met" if ok_v else "missed"}**.
"""


def main(argv: list[str] | None = None) -> None:
    """Run benchmark 8 and write its section of docs/PERFORMANCE.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarefas", type=int, default=100_000)
    parser.add_argument("--varredura", type=int, default=200_000)
    parser.add_argument(
        "--sem-esperar-carga", action="store_true", help="do not wait for 1-min load < 0.8"
    )
    parser.add_argument("--nao-escrever", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.tarefas <= AQUECIMENTO:
        parser.error(f"--tarefas must exceed the {AQUECIMENTO:,} warm-up tasks")

    env = processos.preparar(BANCO, REDIS_DB)
    worker = None
    try:
        maquina = processos.maquina()
        worker = processos.iniciar_worker(env, concurrency=2, nome="memoria-worker")
        carga_ini = (
            processos.carga() if args.sem_esperar_carga else processos.aguardar_carga_baixa()
        )
        quando = processos.agora_texto()
        t = medir_tarefas(worker.pid, args.tarefas)
        v = medir_varredura(worker.pid, args.varredura)
        carga_fim = processos.carga()
    finally:
        if worker:
            worker.parar()
        processos.encerrar(BANCO, REDIS_DB)
    texto = relatorio(t, v, maquina, carga_ini, carga_fim, quando)
    print(texto)
    if not args.nao_escrever:
        documento.escrever_secao("memoria", texto)


if __name__ == "__main__":
    main()
