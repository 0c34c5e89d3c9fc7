"""Admin of apps.operacao: each operations page in its own module."""

from . import admin_resultados  # noqa: F401  (task results, for the gestor)
