"""Unit tests of core/broker.py (the blip itself: test_broker_blip.py, with real processes)."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import pytest
from celery.worker import state
from kombu.transport import redis as kombu_redis

from core import broker
from core.celery import app


def test_the_project_app_uses_the_fixed_redis_channel():
    assert kombu_redis.Transport.Channel is broker.CanalRedis
    assert broker.CanalRedis.QoS is broker.QoSRedis


@pytest.mark.parametrize(
    ("url", "cancelar"),
    [
        ("redis://127.0.0.1:6379/0", False),
        ("rediss://redis.example:6380/0", False),
        ("redis+socket:///srv/nexkodonto/var/redis.sock", False),
        ("amqp://guest:guest@127.0.0.1:5672//", True),
        ("pyamqp://127.0.0.1//", True),
    ],
)
def test_running_tasks_are_cancelled_on_a_connection_loss_only_off_redis(url, cancelar):
    assert broker.cancelar_ao_perder_conexao(url) is cancelar


def test_the_app_sets_the_cancelling_from_its_broker():
    esperado = broker.cancelar_ao_perder_conexao(app.conf.broker_url)
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is esperado


def _qos_com(entregues: list[str], restaurados: list[str]) -> broker.QoSRedis:
    """A QoSRedis over a fake channel that records the tags it restores."""
    qos = broker.QoSRedis.__new__(broker.QoSRedis)
    qos.channel = SimpleNamespace(conn_or_acquire=lambda client=None: contextlib.nullcontext())
    qos._delivered = dict.fromkeys(entregues)
    qos.restore_by_tag = lambda tag, client=None: restaurados.append(tag)
    return qos


@pytest.fixture
def em_execucao(monkeypatch):
    """The worker state with the task of message ``"rodando"`` running."""
    pedido = SimpleNamespace(message=SimpleNamespace(delivery_tag="rodando"))
    monkeypatch.setattr(state, "active_requests", [pedido])
    monkeypatch.setattr(state, "should_stop", None)
    monkeypatch.setattr(state, "should_terminate", None)
    return pedido


def test_a_closed_connection_requeues_reserved_messages_but_not_a_running_tasks(em_execucao):
    restaurados: list[str] = []
    qos = _qos_com(["rodando", "reservada"], restaurados)
    qos.restore_unacked()
    # The running task keeps running and acks later: requeued, it would run twice.
    assert restaurados == ["reservada"]
    assert not qos._delivered


@pytest.mark.parametrize("sinal", ["should_stop", "should_terminate"])
def test_a_worker_shutting_down_requeues_every_message(em_execucao, monkeypatch, sinal):
    monkeypatch.setattr(state, sinal, 0)  # the exit code: 0 counts
    restaurados: list[str] = []
    _qos_com(["rodando", "reservada"], restaurados).restore_unacked()
    assert sorted(restaurados) == ["reservada", "rodando"]
