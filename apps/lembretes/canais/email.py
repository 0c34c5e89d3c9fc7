"""The e-mail channel: Django's e-mail backend (SMTP in production, EMAIL_URL).

SMTP replies tell transient from permanent (RFC 5321, section 4.2.1): 4yz
is "try again later", 5yz is "never". A connection that cannot be opened,
drops, or times out is transient too. An address or a subject Django
refuses (a line break: header injection) is permanent, found before any
connection is opened: nothing went out.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import sanitize_address

from .base import Canal, ErroPermanente, ErroTransitorio, Mensagem


def _por_codigo(codigo: int, classe: str) -> ErroTransitorio | ErroPermanente:
    detalhe = f"SMTP {codigo} ({classe})"
    return ErroPermanente(detalhe) if codigo >= 500 else ErroTransitorio(detalhe)


class CanalEmail(Canal):
    """E-mail to ``paciente.email``, through ``EMAIL_BACKEND`` with ``EMAIL_TIMEOUT`` seconds."""

    codigo = "email"
    campo_paciente = "email"

    def enviar(self, mensagem: Mensagem) -> None:
        """Send ``mensagem`` as one plain-text e-mail to ``mensagem.para``.

        Raises ``ErroPermanente`` (an address or subject Django refuses, an
        SMTP 5yz) or ``ErroTransitorio`` (an SMTP 4yz, a connection refused,
        dropped or past ``EMAIL_TIMEOUT`` seconds); details carry codes and
        exception classes only.
        """
        email = EmailMessage(
            subject=mensagem.assunto,
            body=mensagem.texto,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[mensagem.para],
            headers={"X-Lembrete": mensagem.chave},
        )
        try:
            # What the SMTP backend does first; ValueError covers BadHeaderError.
            sanitize_address(mensagem.para, email.encoding or settings.DEFAULT_CHARSET)
            email.message()
        except ValueError:
            raise ErroPermanente("e-mail: endereço ou assunto inválido") from None
        try:
            with get_connection(timeout=settings.EMAIL_TIMEOUT) as conexao:
                enviados = conexao.send_messages([email])
        except smtplib.SMTPRecipientsRefused as erro:
            # {address: (code, text)}: only the code leaves this function.
            codigos = [codigo for codigo, _texto in erro.recipients.values()]
            raise _por_codigo(min(codigos) if codigos else 550, type(erro).__name__) from None
        except smtplib.SMTPResponseException as erro:
            raise _por_codigo(erro.smtp_code, type(erro).__name__) from None
        except (smtplib.SMTPException, OSError) as erro:  # dropped, refused, timed out
            raise ErroTransitorio(type(erro).__name__) from None
        if not enviados:
            raise ErroTransitorio("o servidor de e-mail não aceitou a mensagem")
