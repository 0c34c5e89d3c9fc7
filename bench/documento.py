"""The report side every benchmark shares: Markdown tables and docs/PERFORMANCE.md sections.

No side effects on import (unlike ``bench.common``, which points Django at
the benchmark database), so every benchmark module can use it.
"""

from __future__ import annotations

import sys
from pathlib import Path

PERFORMANCE_MD = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"

CABECALHO = """# Performance

Benchmarks of issue 5 against real PostgreSQL and Redis, run with `make bench`.
Each command rewrites only its own section below, between its markers.
"""


def tabela(cabecalho: list[str], linhas: list[list[object]]) -> str:
    """A Markdown table: ``cabecalho`` (column titles), one row per item of ``linhas``."""
    texto = ["| " + " | ".join(cabecalho) + " |", "|" + "---|" * len(cabecalho)]
    texto += ["| " + " | ".join(str(c) for c in linha) + " |" for linha in linhas]
    return "\n".join(texto)


def escrever_secao(nome: str, texto: str) -> Path:
    """Replace section ``nome`` of docs/PERFORMANCE.md with ``texto`` (Markdown); return the path.

    A section sits between ``<!-- bench:nome -->`` and ``<!-- /bench:nome -->``;
    a missing one is appended at the end (a missing file starts from a title).
    """
    inicio, fim = f"<!-- bench:{nome} -->", f"<!-- /bench:{nome} -->"
    bloco = f"{inicio}\n{texto.strip()}\n{fim}"
    atual = PERFORMANCE_MD.read_text() if PERFORMANCE_MD.exists() else CABECALHO
    if inicio in atual and fim in atual:
        antes, resto = atual.split(inicio, 1)
        atual = antes + bloco + resto.split(fim, 1)[1]
    else:
        atual = atual.rstrip("\n") + "\n\n" + bloco + "\n"
    PERFORMANCE_MD.parent.mkdir(exist_ok=True)
    PERFORMANCE_MD.write_text(atual)
    return PERFORMANCE_MD


def publicar(nome: str, texto: str, *, escrever: bool) -> None:
    """Print section ``nome``'s Markdown; if ``escrever``, also put it in docs/PERFORMANCE.md."""
    print(texto)
    if escrever:
        print(f"wrote {escrever_secao(nome, texto)}", file=sys.stderr)
