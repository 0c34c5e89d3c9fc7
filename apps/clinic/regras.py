"""Booking rules that other apps add to the clinic's, without the clinic importing them.

The clinic's own time rules (no back-dating without permission, no double
booking) live in ``services.agendamento_validar_horario``. Capabilities built
as apps of their own (working hours and closures: ``apps.expediente``) add
theirs here from their ``AppConfig.ready()``::

    from apps.clinic.regras import registrar_regra_de_horario
    registrar_regra_de_horario("expediente", validar_expediente)

and every door that books or reschedules (API, admin, browsable API, the
calendar page, management commands) then obeys them, because they all go
through the services, which call :func:`aplicar_regras_de_horario`.

A rule is ``regra(agendamento) -> None``: it reads the unsaved or edited
``Agendamento`` in memory (``dentista_id``, aware ``data_hora``,
``fim_calculado``) and raises ``django.core.exceptions.ValidationError``
(pt-BR messages, by field, usually ``data_hora``) when the time is refused.
A rule may be overridden (``permitir_excecao``): a gestor booking outside a
dentist's hours on purpose. Appointments with a placeholder time
(``horario_estimado``, the No-Show import) are outside every rule here, as
they are outside the double-booking rule.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

RegraDeHorario = Callable[[object], None]

_regras: dict[str, RegraDeHorario] = {}


def registrar_regra_de_horario(nome: str, regra: RegraDeHorario) -> None:
    """Add (or replace, under the same ``nome``) a rule every booking and reschedule obeys."""
    _regras[nome] = regra


def remover_regra_de_horario(nome: str) -> None:
    """Remove the rule registered as ``nome`` (tests); no error if there is none."""
    _regras.pop(nome, None)


def aplicar_regras_de_horario(agendamento, *, permitir_excecao: bool = False) -> list[str]:
    """Run every registered rule on ``agendamento``; return the messages that were overridden.

    Without ``permitir_excecao`` the first refusal is raised as the rule's
    ``ValidationError``. With it, every refusal is collected instead and
    returned (pt-BR strings), for the caller to record in the history; an
    empty list means no rule refused. Rules are skipped for placeholder
    times (``horario_estimado``).
    """
    if getattr(agendamento, "horario_estimado", False):
        return []
    excecoes: list[str] = []
    for regra in list(_regras.values()):
        try:
            regra(agendamento)
        except ValidationError as erro:
            if not permitir_excecao:
                raise
            excecoes.extend(str(m) for m in erro.messages)
    return excecoes
