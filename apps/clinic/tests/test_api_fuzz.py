"""A fixed battery of hostile input against every operation of the OpenAPI schema, as each role.

Complements the schemathesis run (generated input, as the manager): here the
same known-bad values go to every field, every query parameter and every body
of every operation, as every role and anonymously (issue 9, item 6). Each
answer must be below 500, JSON, and, for a 4xx, a JSON object whose messages
are pt-BR text (a 400 by field, or ``detail``).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from apps.clinic.models import Atendimento

from .factories import AgendamentoFactory, DentistaFactory, PacienteFactory

pytestmark = pytest.mark.django_db

AGORA = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))

ESQUEMA = json.loads(
    OpenApiJsonRenderer().render(
        SchemaGenerator().get_schema(request=None, public=True), renderer_context={}
    )
)
OPERACOES = [
    (metodo.upper(), caminho, operacao)
    for caminho, metodos in ESQUEMA["paths"].items()
    for metodo, operacao in metodos.items()
]
PAPEIS = ["gestor", "recepcao", "dentista", None]  # None: anonymous

# Values that broke (or could break) a field: extreme and impossible dates,
# ids that are not whole numbers or do not fit a bigint, NUL and surrogate
# characters, wrong JSON types.
VALORES_HOSTIS = [
    "9999-12-31T23:59:59",
    "0001-01-01",
    "0001-01-01T00:00:00+14:00",
    "2026-02-30",
    1.5,
    "1",
    True,
    -1,
    2**63,
    "a\x00b",
    "\ud800",
    None,
    [],
    {"a": 1},
    "",
    "x" * 100_000,
]
IDS_HOSTIS = ["1.5", "-1", str(2**63), "0x1", "%00", "1e3"]
TRES_MB = "a" * 3_000_000


def _corpos_inteiros(campos: list[str]) -> list[tuple[str, bytes | str, str]]:
    """(description, body, content type) of whole-body attacks on one operation."""
    campo = campos[0] if campos else "nome"
    return [
        ("100k [", "[" * 100_000, "application/json"),
        ("100k {", '{"a":' * 100_000, "application/json"),
        ("3 MB string", json.dumps({campo: TRES_MB}), "application/json"),
        ("3 MB form", urlencode({campo: TRES_MB}), "application/x-www-form-urlencoded"),
        ("unknown field", json.dumps({"campo_inexistente": 1}), "application/json"),
        ("array", "[1, 2]", "application/json"),
        ("scalar", '"texto"', "application/json"),
        ("null", "null", "application/json"),
        ("NaN", '{"a": NaN}', "application/json"),
        ("broken JSON", '{"a": ', "application/json"),
        ("not UTF-8", b'{"a": "\xff\xfe"}', "application/json"),
        ("wrong content type", "nome: Ana", "text/yaml"),
        ("form with NUL", urlencode({campo: "a\x00b"}), "application/x-www-form-urlencoded"),
        ("multipart garbage", b"--x\r\nnada", "multipart/form-data; boundary=x"),
    ]


def _campos_do_corpo(operacao: dict) -> list[str]:
    conteudo = operacao.get("requestBody", {}).get("content", {}).get("application/json")
    if not conteudo:
        return []
    esquema = conteudo["schema"]
    if "$ref" in esquema:
        esquema = ESQUEMA["components"]["schemas"][esquema["$ref"].rsplit("/", 1)[1]]
    return list(esquema.get("properties", {}))


def _parametros_de_consulta(operacao: dict) -> list[str]:
    return [p["name"] for p in operacao.get("parameters", []) if p["in"] == "query"]


# English words no pt-BR message should contain (DRF's untranslated text).
_INGLES = re.compile(
    r"\b(this|field|ensure|invalid|valid|must|expected|required|allowed|value|"
    r"not found|character|characters|object|request|please)\b",
    re.IGNORECASE,
)


def _mensagens(corpo) -> list[str]:
    if isinstance(corpo, str):
        return [corpo]
    if isinstance(corpo, list):
        return [m for item in corpo for m in _mensagens(item)]
    if isinstance(corpo, dict):
        return [m for chave, item in corpo.items() if chave != "code" for m in _mensagens(item)]
    return []


def _verificar(resposta, descricao: str) -> None:
    assert resposta.status_code < 500, descricao
    if resposta.status_code == 204:
        return
    assert resposta["Content-Type"].startswith("application/json"), descricao
    corpo = json.loads(resposta.content)
    if resposta.status_code < 400:
        return
    assert isinstance(corpo, dict) and corpo, descricao
    if resposta.status_code == 400 and "detail" not in corpo:
        # Field messages: each field (or non_field_errors) maps to a list of texts.
        for campo, mensagens in corpo.items():
            assert isinstance(mensagens, list | dict), f"{descricao}: {campo}"
    for mensagem in _mensagens(corpo):
        assert not _INGLES.search(mensagem), f"{descricao}: English in {mensagem!r}"


@pytest.fixture(autouse=True)
def relogio():
    with time_machine.travel(AGORA, tick=False):
        yield


@pytest.fixture
def objetos():
    """One row of each kind, visible to every role (the dentist user's own appointments)."""
    usuario_dentista = get_user_model().objects.create_user("dentista-fuzz")
    usuario_dentista.groups.add(Group.objects.get(name="dentista"))
    dentista = DentistaFactory(usuario=usuario_dentista)
    paciente = PacienteFactory(cpf="11144477735")
    futuro = AgendamentoFactory(
        paciente=paciente, dentista=dentista, data_hora=AGORA + timedelta(days=3)
    )
    passado = AgendamentoFactory(dentista=dentista, data_hora=AGORA - timedelta(days=1))
    atendimento = Atendimento.objects.create(agendamento=passado, diagnostico="d")
    return {
        "usuario_dentista": usuario_dentista,
        "pacientes": paciente.pk,
        "dentistas": dentista.pk,
        "agendamentos": futuro.pk,
        "atendimentos": atendimento.pk,
        "usuarios": usuario_dentista.pk,
    }


def _cliente(papel: str | None, objetos) -> APIClient:
    cliente = APIClient(raise_request_exception=False)
    if papel == "dentista":
        cliente.force_authenticate(objetos["usuario_dentista"])
    elif papel:
        usuario = get_user_model().objects.create_user(f"{papel}-fuzz")
        usuario.groups.add(Group.objects.get(name=papel))
        cliente.force_authenticate(usuario)
    return cliente


def _url(caminho: str, objetos, id_: str | None = None) -> str:
    if "{id}" not in caminho:
        return caminho
    # The collection the id belongs to is the segment before it
    # (/api/agendamentos/{id}/, /api/auth/usuarios/{id}/revogar-tokens/).
    partes = caminho.split("/")
    recurso = partes[partes.index("{id}") - 1]
    return caminho.replace("{id}", id_ if id_ is not None else str(objetos[recurso]))


@pytest.mark.parametrize("papel", PAPEIS, ids=lambda p: p or "anonimo")
@pytest.mark.parametrize(
    ("metodo", "caminho", "operacao"), OPERACOES, ids=[f"{m} {c}" for m, c, _ in OPERACOES]
)
def test_no_hostile_input_gets_a_500_html_or_english(metodo, caminho, operacao, papel, objetos):
    cliente = _cliente(papel, objetos)
    url = _url(caminho, objetos)
    campos = _campos_do_corpo(operacao)

    # Bodies: every field with every hostile value, then whole-body attacks.
    if metodo in {"POST", "PUT", "PATCH"}:
        for campo in campos:
            for valor in VALORES_HOSTIS:
                resposta = cliente.generic(
                    metodo, url, json.dumps({campo: valor}), content_type="application/json"
                )
                _verificar(resposta, f"{metodo} {url} {campo}={valor!r:.80}")
        for descricao, corpo, tipo in _corpos_inteiros(campos):
            resposta = cliente.generic(metodo, url, corpo, content_type=tipo)
            _verificar(resposta, f"{metodo} {url} {descricao}")

    # Query strings: every declared parameter with every hostile value, and an unknown one.
    for parametro in [*_parametros_de_consulta(operacao), "parametro_inexistente"]:
        for valor in VALORES_HOSTIS:
            texto = valor if isinstance(valor, str) else json.dumps(valor)
            consulta = urlencode({parametro: texto}, errors="surrogatepass")
            resposta = cliente.generic(metodo, f"{url}?{consulta}")
            _verificar(resposta, f"{metodo} {url}?{parametro}={texto!r:.80}")

    # Ids in the path that are not ids.
    if "{id}" in caminho:
        for id_ in IDS_HOSTIS:
            resposta = cliente.generic(metodo, _url(caminho, objetos, id_))
            _verificar(resposta, f"{metodo} {caminho} id={id_!r}")
