"""The channel interface: what a reminder channel (e-mail, a webhook, an SMS provider) is.

An adapter subclasses ``Canal``: ``codigo`` (a ``models.Canal`` value),
``destino(paciente)`` (the patient's address on this channel, or None) and
``enviar(mensagem)``, which returns once the channel took the message and
raises ``ErroTransitorio`` (try again later) or ``ErroPermanente`` (never
again). Any other exception is treated as "unknown whether it went out":
the reminder is recorded as interrupted and never sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass


class ErroCanal(Exception):
    """A channel's failure. ``detalhe``: for the gestor, never personal data.

    Say what failed (a status code, an exception class, "timeout"), never
    the address, the name or the message.
    """

    def __init__(self, detalhe: str) -> None:
        super().__init__(detalhe)
        self.detalhe = detalhe[:200]


class ErroTransitorio(ErroCanal):
    """The channel may accept the message later (a 4xx SMTP reply, 5xx/429 HTTP, a timeout)."""


class ErroPermanente(ErroCanal):
    """The channel refused the message for good (a 5xx SMTP reply, a 4xx HTTP answer)."""


@dataclass(frozen=True)
class Mensagem:
    """One reminder, rendered: what a channel sends.

    ``chave``: "lembrete-<id>", the same on every attempt (the webhook's
    idempotency key). ``para``: the address ``destino`` gave. ``assunto``
    may be blank (only e-mail uses it).
    """

    chave: str
    para: str
    assunto: str
    texto: str


class Canal:
    """Base class of the channel adapters (see the module's docstring)."""

    codigo: str = ""
    # The Paciente field holding this channel's address.
    campo_paciente: str = ""

    def destino(self, paciente) -> str | None:
        """The patient's address on this channel (stripped), or None when it is blank."""
        valor = (getattr(paciente, self.campo_paciente, "") or "").strip()
        return valor or None

    def enviar(self, mensagem: Mensagem) -> None:
        """Hand ``mensagem`` to the channel; raise ``ErroTransitorio`` or ``ErroPermanente``."""
        raise NotImplementedError
