from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContasConfig(AppConfig):
    """Accounts: token login and logout, the login rate limit, the client's address."""

    name = "apps.contas"
    label = "contas"
    verbose_name = _("Contas")
