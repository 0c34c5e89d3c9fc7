"""Constants and helpers of the admin's role tests (fixtures are in conftest.py)."""

from datetime import datetime
from zoneinfo import ZoneInfo

AGORA = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))

# Names that must never appear on the other dentist's pages.
PACIENTE_A = "Ana Alfa Sigilosa"
PACIENTE_B = "Bruno Beta Sigiloso"
DIAGNOSTICO_B = "Diagnóstico reservado do doutor Bento"

ACAO_RECUSADA = "Nenhuma ação selecionada."


def mensagens(resposta) -> list[str]:
    """The admin messages of a response (``follow=True`` for those after a redirect)."""
    return [str(m) for m in resposta.context["messages"]]


def texto(resposta) -> str:
    return resposta.content.decode()
