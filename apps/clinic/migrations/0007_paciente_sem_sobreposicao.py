"""A patient cannot have two overlapping open appointments (PostgreSQL exclusion constraint).

The twin of the dentist's ``agendamento_sem_sobreposicao`` (migration 0002),
on ``paciente_id`` and only for open rows (agendado, confirmado) with a real
time of day: imported rows with a placeholder time (``horario_estimado``)
stay outside it, as they do for the dentist's. ``'[)'``: 09:00-09:30 and
09:30-10:00 do not conflict. The services check the same rule first
(``selectors.agendamento_do_paciente_em_conflito``) and map a violation of
this constraint to the same 400.

A database that already holds overlapping open appointments of one patient
cannot take the constraint: the migration stops before adding it and lists
the pairs by appointment id (never the patient), so someone can cancel or
reschedule one of each pair and run ``migrate`` again.
"""

from django.db import migrations

NOME = "agendamento_paciente_sem_sobreposicao"

CRIAR_EXCLUSAO = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE clinic_agendamento ADD CONSTRAINT {NOME}
    EXCLUDE USING gist (paciente_id WITH =, tstzrange(data_hora, fim, '[)') WITH &&)
    WHERE (status IN ('agendado', 'confirmado') AND NOT horario_estimado);
"""
REMOVER_EXCLUSAO = f"ALTER TABLE clinic_agendamento DROP CONSTRAINT IF EXISTS {NOME};"

# The rows the constraint would refuse: pairs (lower id first) of open
# appointments of one patient, with real times, whose ranges overlap.
PARES_SOBREPOSTOS = """
SELECT a.id, b.id
FROM clinic_agendamento a
JOIN clinic_agendamento b
  ON b.paciente_id = a.paciente_id AND b.id > a.id
 AND b.data_hora < a.fim AND a.data_hora < b.fim
WHERE a.status IN ('agendado', 'confirmado') AND NOT a.horario_estimado
  AND b.status IN ('agendado', 'confirmado') AND NOT b.horario_estimado
ORDER BY a.id, b.id
"""
PARES_LISTADOS = 50


class PacienteEmDoisLugares(RuntimeError):
    """The database already has overlapping open appointments of one patient."""


def pares_sobrepostos(cursor) -> list[tuple[int, int]]:
    """Every pair ``(id, id)`` of overlapping open appointments of one patient."""
    cursor.execute(PARES_SOBREPOSTOS)
    return [tuple(linha) for linha in cursor.fetchall()]


def mensagem_pares(pares: list[tuple[int, int]]) -> str:
    """The operator's message: the pairs by appointment id only, and how to fix them."""
    listados = ", ".join(f"{a} & {b}" for a, b in pares[:PARES_LISTADOS])
    resto = f" (and {len(pares) - PARES_LISTADOS} more)" if len(pares) > PARES_LISTADOS else ""
    return (
        f"Cannot add the constraint {NOME}: {len(pares)} pair(s) of open appointments "
        f"of the same patient overlap in time. Appointment ids: {listados}{resto}. "
        "Fix: for each pair, cancel or reschedule one of the two appointments (admin or "
        "API, as the services refuse a new overlap), then run migrate again. "
        "To list them again, run the query PARES_SOBREPOSTOS of "
        "apps/clinic/migrations/0007_paciente_sem_sobreposicao.py."
    )


def exclusao_criar(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        pares = pares_sobrepostos(cursor)
    if pares:
        raise PacienteEmDoisLugares(mensagem_pares(pares))
    schema_editor.execute(CRIAR_EXCLUSAO)


def exclusao_remover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVER_EXCLUSAO)


class Migration(migrations.Migration):
    dependencies = [("clinic", "0006_agendar_fora_do_expediente")]

    operations = [migrations.RunPython(exclusao_criar, exclusao_remover)]
