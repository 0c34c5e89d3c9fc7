# ruff: noqa: F811  (the imported fixture is named as a test argument)
"""``make flower`` (``python -m apps.operacao.flower``): Flower on the broker, behind basic auth.

Starts the real command against a Redis of the test's own and asks it over
HTTP; and checks it refuses to start without FLOWER_BASIC_AUTH.
"""

import base64
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from apps.clinic.tests.support import BASE_DIR, Proc, porta_livre, process_env, wait_until

# A redis-server of the test's own (the fault tests' fixture).
from apps.clinic.tests.test_falhas import redis_proprio  # noqa: F401
from apps.operacao.flower import erro_na_autenticacao

pytestmark = pytest.mark.celery_real

CREDENCIAIS = "gestora:senha-de-teste-flower"


def _status(url: str, credenciais: str | None = None) -> int:
    pedido = urllib.request.Request(url)
    if credenciais:
        pedido.add_header(
            "Authorization", "Basic " + base64.b64encode(credenciais.encode()).decode()
        )
    try:
        with urllib.request.urlopen(pedido, timeout=5) as resposta:
            return resposta.status
    except urllib.error.HTTPError as erro:
        return erro.code
    except OSError:
        return 0


def test_flower_answers_401_without_credentials_and_200_with_them(redis_proprio, tmp_path):
    porta = porta_livre()
    env = process_env(
        redis_url=redis_proprio.url, FLOWER_BASIC_AUTH=CREDENCIAIS, FLOWER_PORT=str(porta)
    )
    env.pop("FLOWER_ADDRESS", None)
    flower = Proc("flower", [sys.executable, "-m", "apps.operacao.flower"], env, tmp_path)
    try:
        base = f"http://127.0.0.1:{porta}"
        wait_until(lambda: _status(base + "/") != 0, timeout=60, what="Flower to listen")

        # Every page and the API ask for the password; the right one opens them.
        for caminho in ["/", "/workers", "/tasks", "/api/workers", "/metrics"]:
            assert _status(base + caminho) == 401, caminho
            assert _status(base + caminho, "gestora:errada-errada") == 401, caminho
        assert _status(base + "/", CREDENCIAIS) == 200
        assert _status(base + "/api/workers", CREDENCIAIS) == 200
        # Bound to 127.0.0.1 by default: the broker it watches is the settings' one.
        assert f"127.0.0.1:{porta}" in flower.output()
        assert redis_proprio.url.rsplit("/", 1)[0].removeprefix("redis://") in flower.output()
        assert "senha-de-teste-flower" not in flower.output()
    finally:
        flower.stop()


@pytest.mark.parametrize("valor", [None, "", "gestora", "gestora:", ":senha-longa", "a:curta"])
def test_the_command_refuses_to_start_without_usable_credentials(valor):
    env = process_env(redis_url="redis://127.0.0.1:1/0")
    env.pop("FLOWER_BASIC_AUTH", None)
    if valor is not None:
        env["FLOWER_BASIC_AUTH"] = valor
    feito = subprocess.run(
        [sys.executable, "-m", "apps.operacao.flower"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert feito.returncode == 2
    assert "FLOWER_BASIC_AUTH" in feito.stderr
    assert erro_na_autenticacao(valor or "") is not None


def test_several_user_password_entries_are_accepted():
    assert erro_na_autenticacao("gestora:senha-longa-1,ti:outra-senha-2") is None
