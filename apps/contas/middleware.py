"""The login rate limit on the session login pages (the admin's and the browsable API's)."""

from __future__ import annotations

from django.urls import reverse

from .bloqueio import resposta_de_limite
from .limites import LimiteDeLogin


class LimiteDeLoginMiddleware:
    """Counts every POST to a session login page against the token login's limit.

    The same counter per client address as ``POST /api/auth/token/``
    (``LimiteDeLogin``): API_LOGIN_RATE attempts per address, whatever the
    door. Without it, django-axes alone (per user + address) let one address
    try a few passwords on any number of user names.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._paginas: frozenset[str] | None = None

    def __call__(self, request):
        if self._paginas is None:  # the URLconf is ready only once requests come
            self._paginas = frozenset({reverse("admin:login"), reverse("rest_framework:login")})
        if request.method == "POST" and request.path in self._paginas:
            limite = LimiteDeLogin()
            if not limite.allow_request(request, None):
                return resposta_de_limite(request, limite.wait() or 60)
        return self.get_response(request)
