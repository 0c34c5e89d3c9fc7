"""``python manage.py finalizar_agendamentos``: run the closing sweep now, in-process."""

import argparse

from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.clinic.services import finalizar_agendamentos_vencidos


def _inteiro_positivo(texto: str) -> int:
    try:
        valor = int(texto)
    except ValueError:
        valor = 0
    if valor < 1:
        raise argparse.ArgumentTypeError(f"deve ser um inteiro maior que zero: {texto!r}")
    return valor


class Command(BaseCommand):
    help = (
        "Fecha agora, sem passar pelo Celery, todos os agendamentos em aberto cujo horário "
        "terminou (mesmas regras da varredura periódica) e informa quantos fechou. "
        "Seguro em paralelo com o worker: cada agendamento é fechado uma única vez."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tamanho-lote",
            type=_inteiro_positivo,
            default=None,
            help="Agendamentos por transação (padrão: FINALIZACAO_TAMANHO_LOTE).",
        )

    def handle(self, *args, **options):
        inicio = timezone.now()
        fechados = finalizar_agendamentos_vencidos(now=inicio, tamanho_lote=options["tamanho_lote"])
        segundos = (timezone.now() - inicio).total_seconds()
        self.stdout.write(
            self.style.SUCCESS(f"{fechados} agendamento(s) finalizado(s) em {segundos:.2f} s.")
        )
