"""The role groups' permissions on working hours (groups created by clinic 0002).

- gestor: every permission of this app (view, add, change, delete).
- recepcao, dentista: view only (the admin shows a dentist their own rows).

A copy of ``apps.expediente.permissions.PERMISSOES_POR_PAPEL`` as it was
when written, as migrations must not follow later edits of the code.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

_SO_VER = ["view_jornada", "view_ausencia", "view_diaextra", "view_fechamento"]
PERMISSOES = {"recepcao": _SO_VER, "dentista": _SO_VER, "gestor": None}


def dar(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    daqui = Permission.objects.filter(content_type__app_label="expediente")
    for nome, codenames in PERMISSOES.items():
        grupo, _ = Group.objects.get_or_create(name=nome)
        grupo.permissions.add(
            *(daqui if codenames is None else daqui.filter(codename__in=codenames))
        )


def tirar(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for grupo in apps.get_model("auth", "Group").objects.filter(name__in=PERMISSOES):
        grupo.permissions.remove(*Permission.objects.filter(content_type__app_label="expediente"))


class Migration(migrations.Migration):
    dependencies = [
        ("expediente", "0003_ausencia_horas_nao_nulas"),
        ("clinic", "0002_sobreposicao_e_grupos"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(dar, tirar)]
