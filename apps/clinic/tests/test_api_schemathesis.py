"""Schema-driven run: schemathesis against the API's own OpenAPI schema.

Every operation is called with generated input (valid and invalid) as a
manager with a token; no answer may be a 500 or break the schema.
Bounded: ``MAX_EXEMPLOS`` examples per operation, no deadline.
"""

import json

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.contas.tokens import token_criar
from core.wsgi import application

from .factories import AgendamentoFactory, PacienteFactory

MAX_EXEMPLOS = int(__import__("os").environ.get("SCHEMATHESIS_MAX_EXEMPLOS", "15"))
# What the issue asks of the run: no 500, and every answer inside the schema
# (status code, content type, body, headers). Schemathesis' acceptance checks
# (a "valid" id that does not exist must be 2xx, ...) are left out.
VERIFICACOES = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

# The schema the API serves at /api/schema/ (which needs login), generated in-process.
schema = schemathesis.openapi.from_dict(
    json.loads(
        OpenApiJsonRenderer().render(
            SchemaGenerator().get_schema(request=None, public=True), renderer_context={}
        )
    )
)
schema.app = application  # calls go to the WSGI app, no server needed


@pytest.fixture
def sem_fechar_conexao():
    """Keep the test's DB connection open across WSGI requests, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token_gestor(db, sem_fechar_conexao):
    usuario = get_user_model().objects.create_user("gestor-fuzz")
    usuario.groups.add(Group.objects.get(name="gestor"))
    PacienteFactory()
    AgendamentoFactory()
    return token_criar(usuario)


@schema.parametrize()
@settings(
    max_examples=MAX_EXEMPLOS,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gives_a_500_or_an_answer_outside_the_schema(case, token_gestor):
    case.call_and_validate(headers={"Authorization": f"Token {token_gestor}"}, checks=VERIFICACOES)
