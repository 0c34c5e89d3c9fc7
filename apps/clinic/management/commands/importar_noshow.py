"""``python manage.py importar_noshow PATH``: import the Medical Appointment No Shows CSV.

Thin wrapper: parses the options, shows a progress bar and prints the summary;
the work is ``apps.clinic.importacao.importar_noshow``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import time as dt_time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from apps.clinic.importacao import (
    AVISOS,
    DENTISTA_PADRAO,
    DURACAO_PADRAO_MINUTOS,
    TAMANHO_LOTE_PADRAO,
    ArquivoInvalido,
    contar_linhas_de_dados,
    importar_noshow,
)
from apps.clinic.models import DURACAO_MAXIMA_MINUTOS, DURACAO_MINIMA_MINUTOS


def _hora(texto: str) -> dt_time:
    """argparse type: "HH:MM" (24 h) -> naive ``time``."""
    try:
        horas, minutos = texto.split(":")
        return dt_time(int(horas), int(minutos))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"hora inválida: {texto!r} (use HH:MM, 24 horas, ex.: 08:00)"
        ) from None


def _duracao(texto: str) -> int:
    """argparse type: minutes between the model's minimum and maximum."""
    try:
        minutos = int(texto)
    except ValueError:
        minutos = -1
    if not DURACAO_MINIMA_MINUTOS <= minutos <= DURACAO_MAXIMA_MINUTOS:
        raise argparse.ArgumentTypeError(
            f"duração inválida: {texto!r} (minutos, de {DURACAO_MINIMA_MINUTOS} "
            f"a {DURACAO_MAXIMA_MINUTOS})"
        )
    return minutos


class Command(BaseCommand):
    help = (
        'Importa o arquivo CSV "Medical Appointment No Shows" (KaggleV2-May-2016.csv): '
        "um paciente por PatientId e um agendamento por AppointmentID. O arquivo tem a data "
        "das consultas, mas não a hora: cada agendamento começa no dia de AppointmentDay, "
        "na hora de --hora (padrão 08:00, no fuso da clínica, TIME_ZONE) e dura --duracao "
        'minutos (padrão 30). No-show = Yes vira "faltou" (já fechado); No vira "agendado", '
        "que a varredura de finalização conclui depois. Pode ser executado de novo: o que já "
        "foi importado não é duplicado nem alterado. Linhas sem PatientId, AppointmentID, "
        "AppointmentDay ou No-show válidos são ignoradas e listadas pelo número da linha; "
        "outras anomalias só são contadas no resumo."
    )

    def add_arguments(self, parser):
        parser.add_argument("caminho", help="Caminho do arquivo CSV.")
        parser.add_argument(
            "--hora",
            type=_hora,
            default=dt_time(8, 0),
            metavar="HH:MM",
            help="Hora local de início de todas as consultas importadas (padrão: 08:00).",
        )
        parser.add_argument(
            "--duracao",
            type=_duracao,
            default=DURACAO_PADRAO_MINUTOS,
            metavar="MINUTOS",
            help=(
                f"Duração de cada consulta em minutos, de {DURACAO_MINIMA_MINUTOS} a "
                f"{DURACAO_MAXIMA_MINUTOS} (padrão: {DURACAO_PADRAO_MINUTOS})."
            ),
        )
        parser.add_argument(
            "--dentista",
            default=DENTISTA_PADRAO,
            metavar="NOME",
            help=(
                "Nome do dentista dos agendamentos; é criado se não existir "
                f'(padrão: "{DENTISTA_PADRAO}").'
            ),
        )
        parser.add_argument(
            "--tamanho-lote",
            type=int,
            default=TAMANHO_LOTE_PADRAO,
            metavar="LINHAS",
            help=f"Linhas por transação (padrão: {TAMANHO_LOTE_PADRAO}).",
        )
        parser.add_argument(
            "--sem-progresso",
            action="store_true",
            help="Não mostra a barra de progresso (ela já some quando a saída não é um terminal).",
        )

    def handle(self, *args, **options):
        caminho = options["caminho"]
        sem_barra = options["sem_progresso"] or not sys.stderr.isatty()
        try:
            total = None if sem_barra else contar_linhas_de_dados(caminho)
        except OSError as exc:
            raise CommandError(f"não foi possível ler o arquivo: {exc.strerror}") from None

        with tqdm(
            total=total, unit=" linhas", file=sys.stderr, disable=sem_barra, desc="Importando"
        ) as barra:
            try:
                resultado = importar_noshow(
                    caminho,
                    now=timezone.now(),
                    hora=options["hora"],
                    duracao_minutos=options["duracao"],
                    dentista_nome=options["dentista"],
                    tamanho_lote=options["tamanho_lote"],
                    ao_avancar=barra.update,
                )
            except ArquivoInvalido as exc:
                raise CommandError(str(exc)) from None
            except ValueError as exc:
                raise CommandError(f"opção inválida: {exc}") from None

        # Rejected rows: line number, column and reason only (no patient data).
        for rejeicao in resultado.rejeicoes:
            id_ = f" (AppointmentID {rejeicao.appointment_id})" if rejeicao.appointment_id else ""
            self.stderr.write(
                f"linha {rejeicao.linha}{id_}: {rejeicao.coluna}: {rejeicao.motivo}; ignorada"
            )
        listadas = len({r.linha for r in resultado.rejeicoes})
        if resultado.linhas_rejeitadas > listadas:
            self.stderr.write(
                f"… e mais {resultado.linhas_rejeitadas - listadas} linha(s) rejeitada(s) "
                "não listada(s)."
            )

        if options["verbosity"] == 0:
            return
        escrever = self.stdout.write
        escrever(self.style.SUCCESS(f"Importação de {resultado.arquivo} concluída."))
        escrever(f"  linhas lidas:                     {resultado.linhas_lidas}")
        escrever(f"  agendamentos criados:             {resultado.agendamentos_criados}")
        escrever(f"  já existentes (ignorados):        {resultado.agendamentos_existentes}")
        escrever(f"  AppointmentID repetido no arquivo: {resultado.repetidos_no_arquivo}")
        escrever(f"  pacientes criados:                {resultado.pacientes_criados}")
        escrever(f"  linhas rejeitadas:                {resultado.linhas_rejeitadas}")
        if resultado.avisos:
            escrever(f"  avisos (linhas importadas mesmo assim): {resultado.avisos.total()}")
            for tipo, quantidade in sorted(resultado.avisos.items()):
                escrever(f"    {quantidade:>7}  {AVISOS.get(tipo, tipo)}")
        else:
            escrever("  avisos: nenhum")
        escrever(
            f"  tempo: {resultado.segundos:.2f} s ({resultado.linhas_por_segundo:.0f} linhas/s)"
        )
