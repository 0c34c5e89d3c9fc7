"""Helpers of the reminders' tests: rules, appointments, local SMTP and HTTP servers."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from apps.clinic import services as clinica
from apps.clinic.tests.factories import DentistaFactory, PacienteFactory
from apps.clinic.tests.support import porta_livre
from apps.lembretes.models import Lembrete, RegraLembrete

MODELO = "Olá, {paciente}! Consulta em {data} às {hora} com {dentista} na {clinica}. {link}"


def regras_do_teste(**campos) -> RegraLembrete:
    """Remove every rule (the migration's defaults too) and create one: 24 h, e-mail."""
    Lembrete.objects.all().delete()
    RegraLembrete.objects.all().delete()
    valores = dict(
        nome="24 h",
        antecedencia_minutos=24 * 60,
        tolerancia_minutos=120,
        canal="email",
        assunto="Consulta {data} {hora}",
        modelo=MODELO,
    )
    valores.update(campos)
    return RegraLembrete.objects.create(**valores)


def agendar(inicio: datetime, *, now: datetime, email="maria.souza@example.com", **paciente):
    """An open appointment of a new patient ("Maria Souza Sigilosa") starting at ``inicio``."""
    paciente.setdefault("nome", "Maria Souza Sigilosa")
    paciente.setdefault("telefone", "+5511987654321")
    return clinica.agendamento_criar(
        paciente=PacienteFactory(email=email, **paciente),
        dentista=DentistaFactory(nome="Dra. Alice Souza"),
        data_hora=inicio,
        observacoes="DIAGNOSTICO-SECRETO cárie profunda",
        now=now,
    )


class Mensagens:
    """aiosmtpd handler: keeps every accepted message; ``respostas`` answer DATA first."""

    def __init__(self, respostas: list[str] | None = None, *, recusar_rcpt: str = ""):
        self.recebidas: list = []
        self.respostas = list(respostas or [])
        self.recusar_rcpt = recusar_rcpt
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.recusar_rcpt:
            return self.recusar_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.respostas:
                return self.respostas.pop(0)
            self.recebidas.append(envelope)
        return "250 Message accepted for delivery"


def servidor_smtp(handler: Mensagens) -> Controller:
    """A started aiosmtpd ``Controller`` on 127.0.0.1:<free port> (``.port``); stop() it."""
    controller = Controller(handler, hostname="127.0.0.1", port=porta_livre())
    controller.start()
    return controller


class ServidorHttp:
    """http.server in a thread on 127.0.0.1:<free port>, answering ``codigos`` in turn (then 200).

    ``pedidos``: (headers, json body) of every POST. ``mudo=True``: never answers.
    ``corpo_lento=True``: a 200 whose announced 100 MB body trickles, a byte every
    50 ms, for at most 5 s (then the connection drops).
    """

    def __init__(
        self, codigos: list[int] | None = None, *, mudo: bool = False, corpo_lento: bool = False
    ):
        self.codigos = list(codigos or [])
        self.pedidos: list[tuple[dict, dict]] = []
        self.mudo = mudo
        self.corpo_lento = corpo_lento
        self.liberar = threading.Event()
        dono = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                corpo = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                dono.pedidos.append((dict(self.headers), corpo))
                if dono.mudo:
                    dono.liberar.wait(10)
                    return
                codigo = dono.codigos.pop(0) if dono.codigos else 200
                self.send_response(codigo)
                self.send_header("Content-Length", str(10**8 if dono.corpo_lento else 0))
                self.end_headers()
                for _ in range(100 if dono.corpo_lento else 0):
                    if dono.liberar.wait(0.05):
                        break
                    self.wfile.write(b"x")
                    self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.servidor = ThreadingHTTPServer(("127.0.0.1", porta_livre()), Handler)
        self.url = f"http://127.0.0.1:{self.servidor.server_port}/lembretes"
        self.thread = threading.Thread(target=self.servidor.serve_forever, daemon=True)
        self.thread.start()

    def parar(self):
        self.liberar.set()
        self.servidor.shutdown()
        self.servidor.server_close()


def mais(instante: datetime, **delta) -> datetime:
    return instante + timedelta(**delta)
