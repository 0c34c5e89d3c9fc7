from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgendaConfig(AppConfig):
    """The staff's day and week calendar at /agenda/ (issue 12, item 4).

    Pages for people, over ``apps.clinic`` (appointments, roles, services) and
    ``apps.expediente`` (working hours, closures, free slots); neither of
    those imports this app.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.agenda"
    verbose_name = _("Agenda")
