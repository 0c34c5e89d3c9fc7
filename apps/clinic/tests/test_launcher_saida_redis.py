"""The embedded Redis's own output lines go through the launcher's logging set-up.

Found by the operator's run: under ``LOG_FORMAT=json make run`` the embedded
redis-server's warning (``# WARNING Memory overcommit must be enabled!``) was
copied raw to the output, the one line of the start-up that was not JSON.
"""

import io
import logging

from core import launcher


class _Lista(logging.Handler):
    def __init__(self):
        super().__init__()
        self.registros: list[logging.LogRecord] = []

    def emit(self, record):
        self.registros.append(record)


def test_kept_redis_lines_are_logged_not_copied_raw(capfdbinary):
    saida = io.BytesIO(
        b"7:M 02 Dec 2026 07:00:44.410 * Redis is starting oO0OoO0OoO0Oo\n"
        b"7:M 02 Dec 2026 07:00:44.410 # WARNING Memory overcommit must be enabled!\n"
    )
    lista = _Lista()
    logger = logging.getLogger("nexkodonto.redis")
    logger.addHandler(lista)
    try:
        launcher._pass_on(saida, launcher.REDIS_ROUTINE)
    finally:
        logger.removeHandler(lista)
    assert [(r.levelno, r.getMessage()) for r in lista.registros] == [
        (
            logging.WARNING,
            "7:M 02 Dec 2026 07:00:44.410 # WARNING Memory overcommit must be enabled!",
        )
    ]
    assert capfdbinary.readouterr().out == b""
