"""The default rules: an e-mail 24 hours and 2 hours before each appointment."""

from django.db import migrations

MODELO_24H = (
    "Olá, {paciente}! Lembramos da sua consulta na {clinica} amanhã, {data}, às {hora}, "
    "com {dentista}.\n\nConfirme ou cancele por aqui: {link}\n\n"
    "Se precisar remarcar, fale com a clínica."
)
MODELO_2H = (
    "Olá, {paciente}! Sua consulta na {clinica} é hoje, às {hora}, com {dentista}.\n\n"
    "Confirme ou cancele por aqui: {link}"
)


def criar(apps, schema_editor):
    RegraLembrete = apps.get_model("lembretes", "RegraLembrete")
    if RegraLembrete.objects.exists():
        return
    RegraLembrete.objects.create(
        nome="24 horas antes",
        antecedencia_minutos=24 * 60,
        tolerancia_minutos=120,
        canal="email",
        assunto="Lembrete: sua consulta de {data} às {hora}",
        modelo=MODELO_24H,
    )
    RegraLembrete.objects.create(
        nome="2 horas antes",
        antecedencia_minutos=120,
        tolerancia_minutos=30,
        canal="email",
        assunto="Sua consulta é hoje às {hora}",
        modelo=MODELO_2H,
    )


class Migration(migrations.Migration):
    dependencies = [("lembretes", "0001_initial")]

    operations = [migrations.RunPython(criar, migrations.RunPython.noop)]
