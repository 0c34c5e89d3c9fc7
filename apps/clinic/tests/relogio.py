"""The fixed instant the clinic's tests run at: tests own their clock.

A test that needs "now" travels to ``AGORA`` (the ``relogio_parado``
fixture of conftest.py, ``time_machine.travel(AGORA, tick=False)``) and
builds every time from it, so it passes at any hour of the real day and with
the suite's clock moved by ``NEXKODONTO_RELOGIO_TESTES`` (see the project's
root conftest.py).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

SP = ZoneInfo("America/Sao_Paulo")
# A Wednesday at 10:00 in São Paulo (no daylight saving since 2019): "tomorrow
# at 09:00" is 23 h ahead, "tomorrow at 15:00" 29 h, "tomorrow at 23:30" is
# already the day after in UTC.
AGORA = datetime(2026, 12, 2, 10, 0, tzinfo=SP)
