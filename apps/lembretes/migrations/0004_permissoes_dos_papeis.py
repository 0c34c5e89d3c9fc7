"""The roles' permissions on reminders (groups created by clinic 0002).

- gestor: edits the rules, sees every reminder and the front desk's page.
- recepcao: sees the rules, the reminders and the front desk's page.
- dentista: nothing here (their own agenda is in the clinic's pages).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSOES = {
    "recepcao": ["view_regralembrete", "view_lembrete", "view_agendamentoconfirmacao"],
    "gestor": [
        "view_regralembrete",
        "add_regralembrete",
        "change_regralembrete",
        "view_lembrete",
        "view_agendamentoconfirmacao",
    ],
}


def dar(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for nome, codenames in PERMISSOES.items():
        grupo, _ = Group.objects.get_or_create(name=nome)
        grupo.permissions.add(
            *Permission.objects.filter(content_type__app_label="lembretes", codename__in=codenames)
        )


def tirar(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for grupo in apps.get_model("auth", "Group").objects.filter(name__in=PERMISSOES):
        grupo.permissions.remove(*Permission.objects.filter(content_type__app_label="lembretes"))


class Migration(migrations.Migration):
    dependencies = [
        ("lembretes", "0003_confirmacoes"),
        ("clinic", "0002_sobreposicao_e_grupos"),
    ]

    operations = [migrations.RunPython(dar, tirar)]
