"""``make flower``: Celery's Flower on the project's broker, behind HTTP basic authentication.

``python -m apps.operacao.flower`` (what ``make flower`` runs) checks the
environment, then runs ``celery -A core flower`` in this process, which reads
the broker from the project's settings (REDIS_URL), so it watches the same
broker as the web, the workers and beat.

- ``FLOWER_BASIC_AUTH`` (required): ``user:password`` (several, comma
  separated). Flower reads it from the environment itself, so the password is
  never on a command line (``ps``) nor in a file of the repository. Without it
  this refuses to start (exit status 2): Flower can revoke tasks and shut
  workers down.
- ``FLOWER_ADDRESS`` (default ``127.0.0.1``: reach it through an SSH tunnel
  or a TLS proxy; basic authentication over plain HTTP sends the password in
  clear) and ``FLOWER_PORT`` (default ``5555``).

Flower shows tasks from the workers' task events; by default
(``enable_events``) it asks running workers to send them every few seconds
(README.md, "Task results and Flower", says what that costs).
https://flower.readthedocs.io/en/latest/config.html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
ENDERECO_PADRAO = "127.0.0.1"
PORTA_PADRAO = "5555"


def erro_na_autenticacao(valor: str) -> str | None:
    """Why ``valor`` (FLOWER_BASIC_AUTH) is unusable, or None when every entry is ``user:password``.

    Entries are comma separated (Flower's own format); each needs a non-empty
    user and a password of at least 8 characters.
    """
    if not valor.strip():
        return (
            "FLOWER_BASIC_AUTH is not set: Flower would let anyone who reaches its port "
            "revoke tasks and shut workers down. Set FLOWER_BASIC_AUTH=user:password in the "
            "environment (never in a committed file) and run `make flower` again."
        )
    for entrada in valor.split(","):
        usuario, separador, senha = entrada.partition(":")
        if not separador or not usuario.strip():
            return "FLOWER_BASIC_AUTH: each entry must be user:password (comma separated)"
        if len(senha) < 8:
            return "FLOWER_BASIC_AUTH: each password needs at least 8 characters"
    return None


def comando(ambiente: dict[str, str]) -> list[str]:
    """The ``celery -A core flower`` command line for ``ambiente`` (address and port only)."""
    return [
        str(BIN / "celery"),
        "-A",
        "core",
        "flower",
        f"--address={ambiente.get('FLOWER_ADDRESS') or ENDERECO_PADRAO}",
        f"--port={ambiente.get('FLOWER_PORT') or PORTA_PADRAO}",
    ]


def main() -> int:
    """Check the environment and exec Flower; return 2 (and say why) when it must not start."""
    erro = erro_na_autenticacao(os.environ.get("FLOWER_BASIC_AUTH", ""))
    if erro:
        print(f"[nexkodonto] {erro}", file=sys.stderr)
        return 2
    try:
        import flower  # noqa: F401
    except ImportError:
        print("[nexkodonto] Flower is not installed: pip install -e '.[flower]'", file=sys.stderr)
        return 2
    _metricas_com_senha()
    from celery.bin.celery import main as celery

    sys.argv = comando(dict(os.environ))
    return celery()


def _metricas_com_senha() -> None:
    """Make Flower's ``/metrics`` ask for the password too.

    Flower 2.2 serves its Prometheus page without authentication even when
    basic auth is on (its handler lacks ``tornado.web.authenticated``), and
    that page names every worker's host and the task names. ``/healthcheck``
    (the text "OK") stays open for a monitor.
    """
    import tornado.web
    from flower.views import monitor

    if not getattr(monitor.Metrics.get, "_com_senha", False):
        monitor.Metrics.get = tornado.web.authenticated(monitor.Metrics.get)
        monitor.Metrics.get._com_senha = True


if __name__ == "__main__":
    sys.exit(main())
