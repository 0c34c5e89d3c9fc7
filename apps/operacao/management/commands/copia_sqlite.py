"""``python manage.py copia_sqlite <destino>``: an online backup of the embedded SQLite.

A file copy of a live WAL database misses the committed pages still in
``db.sqlite3-wal`` (or catches the file mid-write); SQLite's backup API reads
one consistent snapshot through the library while web and worker keep
writing. https://www.sqlite.org/backup.html,
https://docs.python.org/3/library/sqlite3.html#sqlite3.Connection.backup
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


def copiar_sqlite(origem: Path, destino: Path, *, espera_segundos: float = 20) -> int:
    """Copy the SQLite database ``origem`` to the new file ``destino``; return its size in bytes.

    One backup step over every page (``pages=-1``): the copy is the snapshot
    of one read transaction, whatever other connections commit meanwhile
    (in WAL mode they are not blocked). The copy is checked with
    ``PRAGMA integrity_check``, switched to ``journal_mode=DELETE`` (one
    self-contained file, no ``-wal`` beside it), written under a temporary
    name in ``destino``'s directory and renamed into place, so ``destino``
    never holds half a copy. ``espera_segundos``: how long to wait for a
    lock (seconds). Raises ``sqlite3.Error`` (the temporary file removed).
    """
    temporario = destino.with_name(f".{destino.name}.parcial-{os.getpid()}")
    try:
        fonte = sqlite3.connect(origem, timeout=espera_segundos)
        try:
            copia = sqlite3.connect(temporario)
            try:
                fonte.backup(copia, pages=-1)
                copia.execute("PRAGMA journal_mode=DELETE")
                (resultado,) = copia.execute("PRAGMA integrity_check").fetchone()
                if resultado != "ok":
                    raise sqlite3.DatabaseError(f"integrity_check of the copy: {resultado}")
            finally:
                copia.close()
        finally:
            fonte.close()
        os.replace(temporario, destino)
    finally:
        temporario.unlink(missing_ok=True)
    return destino.stat().st_size


class Command(BaseCommand):
    help = (
        "Copia o banco SQLite embutido para <destino> sem parar o site (backup online pela "
        "API de backup do SQLite, não uma cópia do arquivo). Para restaurar: pare web, worker "
        "e beat, apague db.sqlite3-wal e db.sqlite3-shm e ponha a cópia no lugar de "
        "db.sqlite3 (docs/DEPLOY.md). No PostgreSQL use pg_dump -Fc."
    )

    def add_arguments(self, parser):
        parser.add_argument("destino", help="Arquivo novo onde gravar a cópia.")
        parser.add_argument(
            "--substituir",
            action="store_true",
            help="Substitui <destino> se ele já existir.",
        )

    def handle(self, *args, **options):
        if connection.vendor != "sqlite":
            raise CommandError(
                f"copia_sqlite copia o banco SQLite embutido; este banco é {connection.vendor}. "
                "No PostgreSQL use pg_dump -Fc (docs/DEPLOY.md, Backups)."
            )
        origem = Path(connection.settings_dict["NAME"]).resolve()
        destino = Path(options["destino"]).expanduser().resolve()
        if destino == origem:
            raise CommandError("O destino é o próprio banco em uso: escolha outro arquivo.")
        # The live database's WAL, shared-memory and rollback journal: a copy
        # renamed over one of them corrupts the running site.
        if destino in {origem.with_name(origem.name + s) for s in ("-wal", "-shm", "-journal")}:
            raise CommandError(
                "O destino é um arquivo do próprio banco em uso (-wal, -shm ou -journal): "
                "escolha outro arquivo."
            )
        if destino.is_dir():
            raise CommandError(f"O destino {destino} é um diretório: informe um arquivo.")
        if not destino.parent.is_dir():
            raise CommandError(f"O diretório {destino.parent} não existe.")
        if not os.access(destino.parent, os.W_OK):
            raise CommandError(f"Sem permissão de escrita no diretório {destino.parent}.")
        if destino.exists() and not destino.is_file():
            # A device, FIFO or socket (/dev/null as root): replacing it would
            # break whatever else uses it.
            raise CommandError(
                f"O destino {destino} não é um arquivo comum: escolha outro arquivo."
            )
        if destino.exists() and not options["substituir"]:
            raise CommandError(
                f"O destino {destino} já existe: use --substituir ou escolha outro arquivo."
            )
        inicio = time.monotonic()
        try:
            tamanho = copiar_sqlite(origem, destino)
        except sqlite3.Error as erro:
            raise CommandError(f"A cópia falhou e nada foi gravado em {destino}: {erro}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Cópia gravada em {destino} ({tamanho / 2**20:.1f} MB, integridade ok) "
                f"em {time.monotonic() - inicio:.2f} s."
            )
        )
