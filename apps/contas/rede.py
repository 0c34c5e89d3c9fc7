"""The client's address, as the deployment defines it (PROXIES_CONFIAVEIS).

One function for every component that keys on the client: the token-login
rate limit (apps.contas.limites) and django-axes (AXES_CLIENT_IP_CALLABLE).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def ip_do_cliente(request) -> str:
    """The client's IP address of ``request`` (a Django or DRF request), as text.

    With ``PROXIES_CONFIAVEIS = 0`` (the default) only ``REMOTE_ADDR`` is
    believed: X-Forwarded-For is a header any client can write. With ``N``
    trusted proxies, each of which appends the address it received the request
    from, the N-th address from the right of X-Forwarded-For is the one the
    outermost proxy saw (the same as DRF's ``NUM_PROXIES``). When the header
    has fewer than N addresses, or that one is not an IP address, the request
    did not come through the proxies as configured and ``REMOTE_ADDR`` is used.
    Returns ``""`` when ``REMOTE_ADDR`` is empty (gunicorn on a unix socket
    without a proxy count).
    """
    remoto = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.PROXIES_CONFIAVEIS
    if proxies <= 0:
        return remoto
    cabecalho = request.META.get("HTTP_X_FORWARDED_FOR") or ""
    enderecos = [parte.strip() for parte in cabecalho.split(",") if parte.strip()]
    if len(enderecos) < proxies:
        return remoto
    try:
        return str(ipaddress.ip_address(enderecos[-proxies]))
    except ValueError:
        return remoto
