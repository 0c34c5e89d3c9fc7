"""Templates: only the known placeholders, bare; rendering in the clinic's zone, never raising."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from apps.lembretes.modelos import Dados, dados_de, renderizar, validar_modelo
from apps.lembretes.models import RegraLembrete


def _mensagem(texto: str) -> str:
    with pytest.raises(ValidationError) as erro:
        validar_modelo(texto)
    return erro.value.messages[0]


def test_every_known_placeholder_and_literal_braces_are_accepted():
    validar_modelo("{paciente} {data} {hora} {dentista} {clinica} {link} {{chaves}}")
    validar_modelo("")


def test_an_unknown_placeholder_is_named_in_the_message():
    mensagem = _mensagem("Olá {paciente}, {foo}!")
    assert mensagem.startswith("Marcador desconhecido: {foo}. Use {paciente}, {data}")


@pytest.mark.parametrize(
    ("texto", "marcador"),
    [
        ("{dentista.usuario}", "{dentista.usuario}"),
        ("{data[0]}", "{data[0]}"),
        ("{hora:>10}", "{hora:>10}"),
        ("{paciente!r}", "{paciente!r}"),
        ("{}", "{}"),
        ("{0}", "{0}"),
        ("{paciente.__class__.__init__.__globals__}", "{paciente.__class__.__init__.__globals__}"),
    ],
)
def test_attribute_index_format_and_positional_access_are_refused(texto, marcador):
    assert f"Marcador inválido: {marcador}" in _mensagem(texto)


@pytest.mark.parametrize("texto", ["Olá {paciente", "Olá paciente}", "{", "}"])
def test_unbalanced_braces_are_refused(texto):
    assert "sem par" in _mensagem(texto)


@pytest.mark.django_db
def test_the_models_clean_validates_subject_and_body():
    regra = RegraLembrete(
        nome="x", antecedencia_minutos=60, canal="email", assunto="{obs}", modelo="{observacoes}"
    )
    with pytest.raises(ValidationError) as erro:
        regra.full_clean()
    assert "Marcador desconhecido: {obs}." in erro.value.message_dict["assunto"][0]
    assert "Marcador desconhecido: {observacoes}." in erro.value.message_dict["modelo"][0]


def test_date_and_time_are_in_the_clinics_zone_and_only_the_first_name(settings):
    settings.CLINICA_NOME = "Clínica Sorriso"
    # 01:30 UTC on the 4th is 22:30 of the 3rd in São Paulo.
    dados = dados_de(
        nome_paciente="  Maria  Souza Lima ",
        inicio=datetime(2026, 12, 4, 1, 30, tzinfo=UTC),
        nome_dentista="Dra. Alice",
        link="https://x/confirmar/t/",
    )
    texto = renderizar("{paciente}|{data}|{hora}|{dentista}|{clinica}|{link}|{{x}}", dados)
    assert texto == "Maria|03/12/2026|22:30|Dra. Alice|Clínica Sorriso|https://x/confirmar/t/|{x}"


@pytest.mark.parametrize("texto", ["{dentista.usuario}", "{data[0]}", "{x", "{hora:%Y}", "{foo}"])
def test_rendering_an_invalid_template_keeps_it_as_written_and_never_evaluates(texto):
    dados = Dados("Maria", "03/12/2026", "10:00", "Dra. A", "C", "L")
    assert renderizar(texto, dados) == texto
