"""The client's address: REMOTE_ADDR unless the deployment declares trusted proxies."""

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory, override_settings
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from apps.contas.rede import ip_do_cliente

PROXY = "10.0.0.2"


def _pedido(xff: str | None = None, remoto: str = PROXY):
    extra = {"REMOTE_ADDR": remoto}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().post("/api/auth/token/", **extra)


def test_by_default_a_forwarded_for_header_is_not_believed():
    assert ip_do_cliente(_pedido("203.0.113.9", remoto="198.51.100.4")) == "198.51.100.4"


@override_settings(PROXIES_CONFIAVEIS=1)
def test_behind_one_proxy_the_rightmost_forwarded_address_is_the_client():
    # The client wrote a fake first entry; the proxy appended the real one.
    assert ip_do_cliente(_pedido("1.2.3.4, 203.0.113.9")) == "203.0.113.9"


@override_settings(PROXIES_CONFIAVEIS=2)
def test_behind_two_proxies_the_second_address_from_the_right_is_the_client():
    assert ip_do_cliente(_pedido("1.2.3.4, 203.0.113.9, 10.0.0.1")) == "203.0.113.9"


@pytest.mark.parametrize("xff", [None, "", "203.0.113.9", "lixo, 10.0.0.1"])
@override_settings(PROXIES_CONFIAVEIS=2)
def test_a_header_that_did_not_come_through_the_proxies_falls_back_to_remote_addr(xff):
    assert ip_do_cliente(_pedido(xff)) == PROXY


@pytest.mark.parametrize("proxies", [0, 1])
def test_django_axes_and_the_rate_limit_key_on_the_same_address(proxies):
    with override_settings(PROXIES_CONFIAVEIS=proxies):
        pedido = _pedido("1.2.3.4, 203.0.113.9")
        assert get_client_ip_address(pedido) == ip_do_cliente(pedido)
        assert get_client_ip_address(pedido) == (PROXY, "203.0.113.9")[proxies]


def test_drf_num_proxies_comes_from_the_same_setting_and_by_default_ignores_the_header():
    from django.conf import settings

    assert api_settings.NUM_PROXIES == settings.PROXIES_CONFIAVEIS == 0
    pedido = _pedido("203.0.113.9", remoto="198.51.100.4")
    assert BaseThrottle().get_ident(pedido) == ip_do_cliente(pedido) == "198.51.100.4"
