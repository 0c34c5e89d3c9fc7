"""``python manage.py demo``: demo login and appointments on an empty database."""

import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from apps.clinic import services
from apps.clinic.models import Agendamento, Dentista, Paciente
from apps.clinic.signals import demo_criada


class Command(BaseCommand):
    help = (
        "Em um banco vazio (sem usuários nem agendamentos), cria um login de demonstração "
        "e alguns agendamentos, três deles já encerrados, para ver o fechamento automático. "
        "Não faz nada em um banco que já tem dados."
    )

    # All or nothing: a Ctrl-C of the first `make run` during this command
    # (the launcher kills it) left users without their password file, and
    # every later run skipped the demo as "not empty".
    @transaction.atomic
    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.exists() or Agendamento.objects.exists():
            return
        senha = secrets.token_urlsafe(9)
        User.objects.create_superuser("demo", "demo@example.invalid", senha)
        # One login per role, same password, to try the API's rules.
        usuarios = {}
        for nome, grupo in (
            ("recepcao", "recepcao"),
            ("dentista", "dentista"),
            ("gestor", "gestor"),
        ):
            # Staff, so the admin works for them too (it shows each only what the API would).
            usuarios[nome] = User.objects.create_user(nome, password=senha, is_staff=True)
            usuarios[nome].groups.add(Group.objects.get(name=grupo))
        credenciais = settings.VAR_DIR / "demo_credenciais.txt"
        credenciais.touch(mode=0o600)
        credenciais.write_text(
            f"senha de todos: {senha}\n"
            "demo: superusuário (admin)\nrecepcao, dentista, gestor: um por perfil da API\n"
        )

        dentista = Dentista.objects.create(
            nome="Dra. Ana Demonstração", cro="CRO-SP 00000", usuario=usuarios["dentista"]
        )
        # E-mail addresses of the domains reserved for examples (RFC 2606), so a
        # demo run sends reminders (the embedded default writes them under
        # var/mensagens/) and no real mailbox ever gets one.
        pacientes = [
            Paciente.objects.create(nome=nome, email=email)
            for nome, email in (
                ("Paciente Demo 1", "paciente.demo1@example.com"),
                ("Paciente Demo 2", "paciente.demo2@example.org"),
                ("Paciente Demo 3", "paciente.demo3@example.com"),
            )
        ]
        agora = timezone.now().replace(second=0, microsecond=0)
        amanha = timezone.localdate() + timedelta(days=1)

        def as_(dia, hora):
            return timezone.make_aware(datetime.combine(dia, time(hora)))

        inicios = [
            (agora - timedelta(days=1, hours=2), "Limpeza e profilaxia"),
            (agora - timedelta(hours=5), ""),
            (agora - timedelta(hours=2), "Restauração em resina, dente 36"),
            # Fixed afternoon times: docs/API.md books the mornings.
            (as_(amanha, 14), "Avaliação inicial"),
            (as_(amanha + timedelta(days=1), 16), ""),
        ]
        for i, (inicio, obs) in enumerate(inicios):
            services.agendamento_criar(
                paciente=pacientes[i % len(pacientes)],
                dentista=dentista,
                data_hora=inicio,
                duracao_minutos=45,
                observacoes=obs,
                permitir_retroativo=True,
            )
        # Other apps' demo data (the weekly plans of apps.expediente). After the
        # appointments: the past ones are at whatever hour the command runs.
        demo_criada.send(sender=self.__class__, dentistas=[dentista])
        self.stdout.write(
            self.style.WARNING(
                "Banco vazio: criados dados de demonstração — login 'demo' (admin) e "
                "'recepcao', 'dentista', 'gestor' (perfis da API), todos com a senha "
                f"'{senha}' (também em {credenciais}), e 5 agendamentos da dentista, 3 "
                "deles já encerrados, que o worker fecha em instantes."
            )
        )
