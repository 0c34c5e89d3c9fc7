"""Double-booking exclusion constraint (PostgreSQL) and the role groups."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# A dentist cannot have two open or concluded appointments whose time ranges
# overlap; '[)' so that 09:00-09:30 and 09:30-10:00 do not conflict.
# Appointments with a placeholder time (horario_estimado) are left out.
# btree_gist gives the "=" operator on bigint a GiST operator class.
CRIAR_EXCLUSAO = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE clinic_agendamento ADD CONSTRAINT agendamento_sem_sobreposicao
    EXCLUDE USING gist (dentista_id WITH =, tstzrange(data_hora, fim, '[)') WITH &&)
    WHERE (status IN ('agendado', 'confirmado', 'concluido') AND NOT horario_estimado);
"""
REMOVER_EXCLUSAO = (
    "ALTER TABLE clinic_agendamento DROP CONSTRAINT IF EXISTS agendamento_sem_sobreposicao;"
)

PERMISSOES = {
    "recepcao": [
        "view_paciente", "add_paciente", "change_paciente",
        "view_dentista",
        "view_agendamento", "add_agendamento", "change_agendamento",
        "view_historicostatus",
    ],
    "dentista": [
        "view_paciente", "view_dentista", "view_agendamento", "view_historicostatus",
        "view_atendimento", "add_atendimento", "change_atendimento",
    ],
    "gestor": None,  # every permission of the clinic app, back-dating included
}


def exclusao_criar(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CRIAR_EXCLUSAO)


def exclusao_remover(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVER_EXCLUSAO)


def grupos_criar(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate);
    # create them now so the groups can be given theirs.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    da_clinica = Permission.objects.filter(content_type__app_label="clinic")
    for nome, codenames in PERMISSOES.items():
        grupo, _ = Group.objects.get_or_create(name=nome)
        grupo.permissions.set(
            da_clinica if codenames is None else da_clinica.filter(codename__in=codenames)
        )


def grupos_remover(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=PERMISSOES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(exclusao_criar, exclusao_remover),
        migrations.RunPython(grupos_criar, grupos_remover),
    ]
