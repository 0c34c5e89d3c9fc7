"""The clinic's admin fixtures (two dentists with logins, staff by role, clock at AGORA)."""

from apps.clinic.tests.admin.conftest import clinica, como, relogio  # noqa: F401
