"""Admin of the reminders app (the lead merges the rules' and reminders' admin here)."""

from . import admin_recepcao  # noqa: F401
