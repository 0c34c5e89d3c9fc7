from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LembretesConfig(AppConfig):
    """Appointment reminders and the patient's confirmation page (issue 11).

    Depends on ``apps.clinic`` (its models, services and selectors); the
    clinic never imports this app.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.lembretes"
    verbose_name = _("Lembretes")
