"""The e-mail channel over real SMTP: an aiosmtpd server in this process, Django's SMTP backend."""

from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import time_machine

from apps.clinic.tests.support import porta_livre
from apps.lembretes import services
from apps.lembretes.canais import ErroTransitorio, Mensagem
from apps.lembretes.canais.email import CanalEmail
from apps.lembretes.models import Lembrete

from .apoio import Mensagens, agendar, regras_do_teste, servidor_smtp

pytestmark = pytest.mark.django_db
S, M = Lembrete.Situacao, Lembrete.Motivo


def _smtp(settings, porta: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", porta
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp(settings, request):
    """``smtp(respostas=..., recusar_rcpt=...)``: a started server with Django pointed at it."""
    servidores = []

    def iniciar(**opcoes) -> Mensagens:
        handler = Mensagens(**opcoes)
        controller = servidor_smtp(handler)
        servidores.append(controller)
        _smtp(settings, controller.port)
        return handler

    yield iniciar
    for controller in servidores:
        controller.stop()


@pytest.fixture
def pendente(relogio_parado, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://clinica.example.org"
    regras_do_teste()
    agendamento = agendar(relogio_parado + timedelta(hours=23), now=relogio_parado)
    with django_capture_on_commit_callbacks(execute=True):
        services.buscar_devidos(now=relogio_parado, publicar=lambda ids: None)
    return agendamento.lembretes.get()


def _estado(lembrete):
    lembrete.refresh_from_db()
    return lembrete.situacao, lembrete.motivo


def test_the_reminder_arrives_by_smtp_with_its_link(pendente, relogio_parado, smtp, settings):
    servidor = smtp()
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == S.ENVIADO

    [envelope] = servidor.recebidas
    assert envelope.rcpt_tos == ["maria.souza@example.com"]
    assert envelope.mail_from == settings.DEFAULT_FROM_EMAIL
    mensagem = message_from_bytes(envelope.original_content, policy=policy.default)
    assert mensagem["Subject"] == "Consulta 03/12/2026 09:00"
    assert mensagem["X-Lembrete"] == f"lembrete-{pendente.pk}"
    corpo = mensagem.get_content()
    assert "Olá, Maria! Consulta em 03/12/2026 às 09:00 com Dra. Alice Souza" in corpo
    link = next(p for p in corpo.split() if p.startswith("https://clinica.example.org/confirmar/"))
    assert link.endswith("/")
    assert "DIAGNOSTICO" not in corpo and "Sigilosa" not in corpo
    assert _estado(pendente) == (S.ENVIADO, "")


def test_a_451_is_retried_and_the_patient_gets_one_message(pendente, relogio_parado, smtp):
    servidor = smtp(respostas=["451 4.3.0 Tente mais tarde"])
    resultado = services.lembrete_enviar(pendente.pk, now=relogio_parado)
    assert resultado.espera_segundos == 30
    assert _estado(pendente) == (S.PENDENTE, "")
    assert pendente.detalhe == "SMTP 451 (SMTPDataError)"
    assert servidor.recebidas == []

    depois = relogio_parado + timedelta(seconds=30)
    with time_machine.travel(depois, tick=False):
        assert services.lembrete_enviar(pendente.pk, now=depois).situacao == S.ENVIADO
    assert len(servidor.recebidas) == 1
    assert pendente.tentativas == 1  # refreshed before the second attempt
    assert Lembrete.objects.get(pk=pendente.pk).tentativas == 2


def test_a_550_recipient_refused_fails_without_retry_and_without_the_address(
    pendente, relogio_parado, smtp
):
    servidor = smtp(recusar_rcpt="550 5.1.1 Caixa inexistente")
    resultado = services.lembrete_enviar(pendente.pk, now=relogio_parado)
    assert resultado == services.Resultado(S.FALHOU)
    assert _estado(pendente) == (S.FALHOU, M.ERRO_PERMANENTE)
    assert pendente.detalhe == "SMTP 550 (SMTPRecipientsRefused)"
    assert servidor.recebidas == []
    # Nothing left to send.
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == "nada"


def test_a_server_that_is_not_there_is_a_transient_error(settings):
    _smtp(settings, porta_livre())
    with pytest.raises(ErroTransitorio) as erro:
        CanalEmail().enviar(
            Mensagem(chave="lembrete-1", para="a@example.com", assunto="", texto="x")
        )
    assert erro.value.detalhe == "ConnectionRefusedError"


def test_the_file_backend_of_the_embedded_default_writes_the_message(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    CanalEmail().enviar(Mensagem(chave="lembrete-1", para="a@example.com", assunto="A", texto="B"))
    [arquivo] = tmp_path.iterdir()
    assert "To: a@example.com" in arquivo.read_text()


@pytest.mark.parametrize(
    ("campo", "valor"),
    [
        ("email", "maria@example.com\r\nBcc: outro@example.org"),
        ("assunto", "Consulta {data}\r\nBcc: outro@example.org"),
    ],
)
def test_an_address_or_subject_with_a_line_break_fails_as_permanent_before_any_smtp(
    pendente, relogio_parado, smtp, campo, valor
):
    # Found by the hostile review: Django refuses such an address or header
    # (ValueError, BadHeaderError) before talking to the server, but the
    # channel let it through as "unknown whether it went out" (interrompido).
    # Rows written around the model's validation (an import, SQL).
    if campo == "email":
        type(pendente.agendamento.paciente).objects.filter(
            pk=pendente.agendamento.paciente_id
        ).update(email=valor)
    else:
        type(pendente.regra).objects.filter(pk=pendente.regra_id).update(assunto=valor)
    servidor = smtp()
    assert services.lembrete_enviar(pendente.pk, now=relogio_parado).situacao == S.FALHOU
    assert _estado(pendente) == (S.FALHOU, M.ERRO_PERMANENTE)
    assert pendente.detalhe == "e-mail: endereço ou assunto inválido"
    assert servidor.recebidas == []
