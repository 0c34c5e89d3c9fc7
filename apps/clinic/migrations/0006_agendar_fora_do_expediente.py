"""The permission to book outside a dentist's working hours, given to the gestor group."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def dar(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    grupo, _ = Group.objects.get_or_create(name="gestor")
    grupo.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="clinic", codename="agendar_fora_do_expediente"
        )
    )


def tirar(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for grupo in apps.get_model("auth", "Group").objects.filter(name="gestor"):
        grupo.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="clinic", codename="agendar_fora_do_expediente"
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0005_historico_pelo_paciente_e_indice_inicio"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="agendamento",
            options={
                "ordering": ["data_hora", "id"],
                "permissions": [
                    ("agendar_retroativo", "Pode agendar ou reagendar com data no passado"),
                    (
                        "agendar_fora_do_expediente",
                        "Pode agendar ou reagendar fora do expediente do dentista",
                    ),
                ],
                "verbose_name": "agendamento",
                "verbose_name_plural": "agendamentos",
            },
        ),
        migrations.RunPython(dar, tirar),
    ]
