"""Roles of the clinic's staff (Django groups created by migration 0002).

- ``recepcao``: patients and the schedule; never the clinical record.
- ``dentista``: their own agenda and the clinical records of their own
  appointments (linked through ``Dentista.usuario``).
- ``gestor``: everything, reports included. Superusers count as gestor.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission

PAPEIS = ("gestor", "recepcao", "dentista")

# Model permissions of each role's group (they drive the admin; the API's
# rules are in the views' ``papeis``). None: every permission of the app.
PERMISSOES_POR_PAPEL = {
    "recepcao": [
        "view_paciente",
        "add_paciente",
        "change_paciente",
        "view_dentista",
        "view_agendamento",
        "add_agendamento",
        "change_agendamento",
        "view_historicostatus",
    ],
    "dentista": [
        "view_paciente",
        "view_dentista",
        "view_agendamento",
        "view_historicostatus",
        "view_atendimento",
        "add_atendimento",
        "change_atendimento",
    ],
    "gestor": None,
}


# What each role may do, per action of the API's viewsets (``TemPapel`` reads
# a view's ``papeis``). The admin reads the same tables (apps/clinic/admin.py),
# so both doors hold one declaration of the rules.
TODOS = {"gestor", "recepcao", "dentista"}
AGENDA = {"gestor", "recepcao"}
CLINICO = {"gestor", "dentista"}

PAPEIS_PACIENTES = {
    "list": TODOS,
    "retrieve": TODOS,
    "create": AGENDA,
    "update": AGENDA,
    "partial_update": AGENDA,
    "destroy": AGENDA,
}
PAPEIS_DENTISTAS = {
    "list": TODOS,
    "retrieve": TODOS,
    "agenda": TODOS,
    "create": {"gestor"},
    "update": {"gestor"},
    "partial_update": {"gestor"},
}
PAPEIS_AGENDAMENTOS = {
    "list": TODOS,
    "retrieve": TODOS,
    "historico": TODOS,
    "create": AGENDA,
    "update": AGENDA,
    "partial_update": AGENDA,
    "confirmar": AGENDA,
    "cancelar": AGENDA,
    "marcar_falta": TODOS,
    "finalizar": CLINICO,
    "reabrir": CLINICO,
}
PAPEIS_ATENDIMENTOS = {"*": CLINICO}


def grupos_garantir() -> None:
    """Create any missing role group with its permissions (idempotent).

    Migration ``clinic.0002`` creates them; this runs after every ``migrate``
    (post_migrate) so a group deleted by hand, or a database flushed by the
    test runner, gets them back. Existing groups are left as they are.
    """
    from django.contrib.auth.models import Group, Permission

    da_clinica = Permission.objects.filter(content_type__app_label="clinic")
    for nome, codenames in PERMISSOES_POR_PAPEL.items():
        grupo, criado = Group.objects.get_or_create(name=nome)
        if criado:
            grupo.permissions.set(
                da_clinica if codenames is None else da_clinica.filter(codename__in=codenames)
            )


def papel(usuario) -> str | None:
    """The role of ``usuario``: "gestor", "recepcao", "dentista" or None.

    When a user is in several groups the broadest wins (gestor > recepcao >
    dentista). Anonymous and inactive users have none.
    """
    if usuario is None or not usuario.is_authenticated or not usuario.is_active:
        return None
    if usuario.is_superuser:
        return "gestor"
    # Read once per user object (one request): the permission check, the
    # queryset and the view all ask (docs/PERFORMANCE.md, benchmark 7).
    if not hasattr(usuario, "_papel_clinica"):
        grupos = set(usuario.groups.values_list("name", flat=True))
        usuario._papel_clinica = next((p for p in PAPEIS if p in grupos), None)
    return usuario._papel_clinica


class TemPapel(BasePermission):
    """Allows a request when the user's role is in the view's ``papeis`` for the action.

    The view declares ``papeis = {"list": {...}, "create": {...}, ...}`` (a
    ``"*"`` key is the default). Object-level limits (a dentist's own rows)
    are applied by the view's queryset, so another dentist's row is a 404.
    """

    message = "Seu perfil não tem permissão para esta operação."

    def has_permission(self, request, view) -> bool:
        if getattr(view, "action_map", None) is not None and view.action is None:
            # A method the view does not have: a logged-in user gets DRF's 405.
            return bool(request.user and request.user.is_authenticated)
        regras = getattr(view, "papeis", {})
        acao = getattr(view, "action", None) or request.method.lower()
        permitidos = regras.get(acao, regras.get("*", set()))
        return papel(request.user) in permitidos
