"""Two weekly intervals of one dentist on the same weekday never overlap (PostgreSQL).

``Jornada.clean()`` refuses an overlap with a pt-BR message; this constraint
holds it against two saves at once (two admin tabs), which ``clean()``
cannot see. PostgreSQL has no range of ``time``, so each interval becomes a
``tsrange`` on a fixed date (``date + time`` is immutable, as an index
expression must be); ``'[)'`` so that 08:00–12:00 and 12:00–13:00 touch
without overlapping. btree_gist (created by clinic 0002) gives ``=`` on the
integer columns a GiST operator class. Not a Django ``ExclusionConstraint``
in ``Meta``: the tests also run on SQLite, which has no EXCLUDE, and the
clinic's double-booking constraint is declared the same way.
"""

from django.db import migrations

CRIAR = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE expediente_jornada ADD CONSTRAINT jornada_sem_sobreposicao
    EXCLUDE USING gist (
        dentista_id WITH =,
        dia_semana WITH =,
        tsrange(DATE '2000-01-03' + inicio, DATE '2000-01-03' + fim, '[)') WITH &&
    );
"""
REMOVER = "ALTER TABLE expediente_jornada DROP CONSTRAINT IF EXISTS jornada_sem_sobreposicao;"


def criar(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CRIAR)


def remover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVER)


class Migration(migrations.Migration):
    dependencies = [
        ("expediente", "0001_inicial"),
        ("clinic", "0002_sobreposicao_e_grupos"),
    ]

    operations = [migrations.RunPython(criar, remover)]
