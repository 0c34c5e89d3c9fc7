"""factory_boy factories for the clinic's models."""

from datetime import timedelta

import factory
from django.utils import timezone

from apps.clinic.models import Agendamento, Dentista, Paciente


class PacienteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paciente

    nome = factory.Sequence(lambda n: f"Paciente Teste {n}")


class DentistaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dentista

    nome = factory.Sequence(lambda n: f"Dentista Teste {n}")
    cro = factory.Sequence(lambda n: f"CRO-SP {10000 + n}")


class AgendamentoFactory(factory.django.DjangoModelFactory):
    """An open appointment starting 24 h after ``timezone.now()``.

    The default is relative to the (travelled) now, so it means the same at
    any hour; it is not "tomorrow at a given hour" and may fall on the day
    after tomorrow's date in UTC. A test that needs a local hour or a day
    passes ``data_hora`` built from ``relogio.AGORA``.
    """

    class Meta:
        model = Agendamento

    paciente = factory.SubFactory(PacienteFactory)
    dentista = factory.SubFactory(DentistaFactory)
    data_hora = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    duracao_minutos = 30
    observacoes = ""
