"""gunicorn 27's control socket is off in the project's gunicorn.conf.py.

Found by the operator's run: gunicorn 27 opens a control socket at
``~/.gunicorn/gunicorn.ctl`` by default. Under the shipped systemd unit the
service user's home (``/opt/nexkodonto``) is read-only (``ProtectSystem=strict``),
so every start logged ``ERROR Control server error: [Errno ...]``, an ERROR
line for operators who alert on them (docs/DEPLOY.md, "What to monitor");
and two gunicorns of one user (two deployments, or a test run beside the
site) share that one path. The project uses no control commands.
"""

import subprocess
import urllib.request

import pytest

from apps.clinic.tests.support import BASE_DIR, BIN, porta_livre, process_env, wait_until

pytestmark = pytest.mark.celery_real


def _vivo(porta: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{porta}/health/live", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.django_db
def test_gunicorn_with_an_unwritable_home_starts_without_a_control_socket_error(tmp_path):
    porta = porta_livre()
    saida = tmp_path / "gunicorn.log"
    # /proc: no one, not even root, can create ~/.gunicorn there (a read-only home).
    env = process_env(redis_url="redis://127.0.0.1:1/0", HOME="/proc", LOG_FORMAT="text")
    with saida.open("wb") as arquivo:
        proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "core.wsgi", "--bind", f"127.0.0.1:{porta}", "--workers", "1"],
            cwd=BASE_DIR,
            env=env,
            stdout=arquivo,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: _vivo(porta), timeout=60, what="gunicorn answering /health/live")
            # The control server starts in the arbiter right after the workers.
            wait_until(
                lambda: "Booting worker" in saida.read_text(), timeout=10, what="a worker booted"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    texto = saida.read_text()
    assert "Listening at" in texto
    assert "Control server" not in texto and "Control socket" not in texto, texto
