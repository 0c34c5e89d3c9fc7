"""OpenAPI generation: every operation documents the error answers it can give."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes

from .serializers import ErroSerializer

ERROS_DE_TODA_OPERACAO = {
    "400": (OpenApiTypes.OBJECT, "Dados inválidos: {campo: [mensagens em pt-BR]}"),
    "401": (ErroSerializer, "Sem credenciais válidas"),
    "403": (ErroSerializer, "O perfil do usuário não permite a operação"),
    "404": (ErroSerializer, "Não existe, ou não é visível para o usuário"),
}
ERROS_DE_ESCRITA = {
    "409": (ErroSerializer, "Conflito: transição de situação inválida ou registro protegido"),
    "415": (ErroSerializer, "Tipo de conteúdo não suportado"),
}


class EsquemaClinica(AutoSchema):
    """AutoSchema that adds 400/401/403/404 (and 409/415 on writes) to every operation."""

    def _get_response_bodies(self, direction="response"):
        respostas = super()._get_response_bodies(direction)
        erros = dict(ERROS_DE_TODA_OPERACAO)
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            erros.update(ERROS_DE_ESCRITA)
        if getattr(self.view, "throttle_scope", None):
            erros["429"] = (ErroSerializer, "Tentativas demais; aguarde e tente de novo")
        for codigo, (corpo, descricao) in erros.items():
            if codigo not in respostas:
                resposta = self._get_response_for_code(corpo, codigo, direction=direction)
                resposta["description"] = descricao
                respostas[codigo] = resposta
        return respostas
