"""Message templates of the reminder rules: their placeholders, validation and rendering.

A template is plain text with placeholders in braces (``{paciente}``,
``{data}``...). It is parsed with ``string.Formatter().parse`` but never
given to ``str.format``: only bare names from ``MARCADORES`` are accepted,
and rendering substitutes them one by one, so attribute or index access
(``{dentista.usuario}``, ``{data[0]}``, the known ``str.format`` injection),
format specs and conversions can neither be saved nor evaluated. The values
are strings computed here from a fixed set of fields: nothing clinical
(diagnosis, treatment, ``observacoes``) is reachable from a template.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# The placeholders, in the order the messages list them.
MARCADORES = ("paciente", "data", "hora", "dentista", "clinica", "link")
_LISTA = ", ".join("{" + nome + "}" for nome in MARCADORES)


def _erro(mensagem: str) -> ValidationError:
    return ValidationError(mensagem, code="marcador")


def validar_modelo(texto: str) -> None:
    """Check that ``texto`` uses only the known placeholders, bare.

    Raises ``ValidationError`` (code "marcador", a pt-BR message naming the
    offending placeholder) for an unknown name, a positional ``{}``,
    attribute or index access, a format spec or conversion, or an unbalanced
    brace. ``{{`` and ``}}`` are literal braces.
    """
    try:
        partes = list(string.Formatter().parse(texto or ""))
    except ValueError:
        raise _erro(
            _(
                "Há uma chave “{” ou “}” sem par. Para escrever uma chave no texto, "
                "use {{ ou }}. Marcadores: %(lista)s."
            )
            % {"lista": _LISTA}
        ) from None
    for _literal, nome, especificacao, conversao in partes:
        if nome is None:
            continue
        escrito = "{" + nome + ("!" + conversao if conversao else "")
        escrito += (":" + especificacao if especificacao else "") + "}"
        if nome in MARCADORES and not especificacao and not conversao:
            continue
        if nome in MARCADORES or any(c in nome for c in ".[]") or not nome.isidentifier():
            raise _erro(
                _(
                    "Marcador inválido: %(marcador)s. Use só os nomes, sem pontos, colchetes "
                    "nem formatação: %(lista)s."
                )
                % {"marcador": escrito, "lista": _LISTA}
            )
        raise _erro(
            _("Marcador desconhecido: %(marcador)s. Use %(lista)s.")
            % {"marcador": escrito, "lista": _LISTA}
        )


@dataclass(frozen=True)
class Dados:
    """The values of the placeholders, already strings (see ``dados_de``)."""

    paciente: str
    data: str
    hora: str
    dentista: str
    clinica: str
    link: str


def primeiro_nome(nome: str) -> str:
    """The first word of a person's name ("" for a blank name)."""
    partes = (nome or "").split()
    return partes[0] if partes else ""


def dados_de(*, nome_paciente: str, inicio: datetime, nome_dentista: str, link: str) -> Dados:
    """The placeholders' values for an appointment starting at ``inicio`` (aware).

    ``{paciente}`` is the first name only; ``{data}`` (dd/mm/aaaa) and
    ``{hora}`` (HH:MM) are in the clinic's zone (``TIME_ZONE``), whatever
    zone ``inicio`` comes in.
    """
    local = timezone.localtime(inicio)
    return Dados(
        paciente=primeiro_nome(nome_paciente),
        data=local.strftime("%d/%m/%Y"),
        hora=local.strftime("%H:%M"),
        dentista=nome_dentista or "",
        clinica=settings.CLINICA_NOME,
        link=link,
    )


def renderizar(texto: str, dados: Dados) -> str:
    """``texto`` with its placeholders replaced by ``dados``; never raises for a valid template.

    For a template that does not validate (saved before validation existed,
    or written by SQL), what cannot be a bare known placeholder is kept as
    written, braces included, rather than evaluated or raising.
    """
    try:
        partes = list(string.Formatter().parse(texto or ""))
    except ValueError:
        return texto or ""
    saida: list[str] = []
    for literal, nome, especificacao, conversao in partes:
        saida.append(literal)
        if nome is None:
            continue
        if nome in MARCADORES and not especificacao and not conversao:
            saida.append(getattr(dados, nome))
        else:
            escrito = "{" + nome + ("!" + conversao if conversao else "")
            saida.append(escrito + (":" + especificacao if especificacao else "") + "}")
    return "".join(saida)


def exemplo() -> Dados:
    """Sample values for the admin's preview (no real patient)."""
    return Dados(
        paciente="Maria",
        data="03/12/2026",
        hora="14:30",
        dentista="Dra. Alice Souza",
        clinica=settings.CLINICA_NOME,
        link=settings.SITE_URL.rstrip("/") + "/confirmar/exemplo/",
    )
