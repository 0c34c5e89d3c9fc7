"""The NEXKODONTO_RELOGIO_TESTES switch of the project's root conftest.py.

Each test runs a small pytest session (pytester, in this process) with that
conftest.py and the switch set, and reads what the session's tests saw.
"""

from datetime import datetime, timedelta
from pathlib import Path

import pytest

RAIZ = Path(__file__).resolve().parents[3]
TESTES = """
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

SP = ZoneInfo("America/Sao_Paulo")


def test_sem_marcador():
    print("SEM_MARCADOR", datetime.now(SP).isoformat())


@pytest.mark.celery_real
def test_com_marcador():
    print("COM_MARCADOR", datetime.now(SP).isoformat())


def test_processo_sem_marcador():
    subprocess.run([sys.executable, "-c", "pass"], check=True)
"""


@pytest.fixture
def sessao(pytester, monkeypatch):
    """Run the session under the switch ``valor``; return pytester's result."""
    pytester.makeconftest((RAIZ / "conftest.py").read_text())
    pytester.makeini("[pytest]\nmarkers =\n    celery_real: real processes\n")
    pytester.makepyfile(test_relogio=TESTES)

    def rodar(valor: str, *argumentos: str):
        monkeypatch.setenv("NEXKODONTO_RELOGIO_TESTES", valor)
        return pytester.runpytest_inprocess(
            "-p", "no:django", "-p", "no:cacheprovider", "-s", *argumentos
        )

    return rodar


def _visto(resultado, teste: str) -> str:
    linhas = [linha for linha in resultado.outlines if teste in linha]
    return linhas[0].split(teste)[-1].split()[0]


def test_an_instant_with_an_offset_moves_the_clock_of_unmarked_tests_only(sessao):
    resultado = sessao("2031-03-04T23:50:00-03:00")

    resultado.stdout.fnmatch_lines(
        ["clock moved (NEXKODONTO_RELOGIO_TESTES): * start at 2031-03-04T23:50:00-03:00"]
    )
    assert _visto(resultado, "SEM_MARCADOR").startswith("2031-03-04T23:50")
    # A test with real processes keeps the clock those processes read.
    assert not _visto(resultado, "COM_MARCADOR").startswith("2031-")


def test_a_bare_local_time_means_that_time_of_the_day_in_sao_paulo(sessao):
    resultado = sessao("00:10")

    assert _visto(resultado, "SEM_MARCADOR")[11:16] == "00:10"
    assert _visto(resultado, "SEM_MARCADOR").endswith("-03:00")


def test_an_unmarked_test_that_starts_a_process_fails_naming_the_marker(sessao):
    resultado = sessao("23:50")

    resultado.assert_outcomes(passed=2, failed=1)
    resultado.stdout.fnmatch_lines(["*test_processo_sem_marcador*mark the test celery_real*"])


@pytest.mark.parametrize("valor", ["2026-12-02T23:50", "25:00", "amanhã"])
def test_a_value_without_an_offset_or_not_a_time_stops_the_session(sessao, valor):
    resultado = sessao(valor)

    assert resultado.ret == pytest.ExitCode.USAGE_ERROR
    resultado.stderr.fnmatch_lines([f"*NEXKODONTO_RELOGIO_TESTES='{valor}': expected*"])


def test_unset_every_test_has_the_same_clock_and_nothing_is_printed(sessao):
    # Not the process test: this session may itself run under a moved clock.
    resultado = sessao("", "-k", "not processo")

    resultado.assert_outcomes(passed=2)
    assert "clock moved" not in resultado.stdout.str()
    sem, com = (
        datetime.fromisoformat(_visto(resultado, t)) for t in ("SEM_MARCADOR", "COM_MARCADOR")
    )
    assert abs(sem - com) < timedelta(minutes=1)
