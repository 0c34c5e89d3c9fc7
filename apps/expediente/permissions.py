"""Who may see and change the working hours (the roles of ``apps.clinic.permissions``).

- ``gestor`` (superusers count as gestor): sees and edits everything.
- ``recepcao``: sees every plan, absence, extra day and closure (to book
  and to answer the phone), changes none.
- ``dentista``: sees their own plan, absences and extra days, and the
  clinic's closures; changes none (the gestor keeps the hours).

``PAPEIS_EXPEDIENTE`` is written as the clinic's ``PAPEIS_*`` tables are
(keys of a viewset's ``papeis``), so an API for these models would reuse it
as it is; the admin reads it through ``RegrasDaApiMixin``, on top of the
groups' model permissions (``PERMISSOES_POR_PAPEL``, given by migration
0004 and kept by :func:`permissoes_garantir`).
"""

from __future__ import annotations

from apps.clinic.permissions import TODOS

SO_GESTOR = {"gestor"}

PAPEIS_EXPEDIENTE = {
    "list": TODOS,
    "retrieve": TODOS,
    "create": SO_GESTOR,
    "update": SO_GESTOR,
    "partial_update": SO_GESTOR,
    "destroy": SO_GESTOR,
}

_MODELOS = ("jornada", "ausencia", "diaextra", "fechamento")
_SO_VER = [f"view_{m}" for m in _MODELOS]

# Model permissions of each role's group in this app. None: all of them.
PERMISSOES_POR_PAPEL: dict[str, list[str] | None] = {
    "recepcao": _SO_VER,
    "dentista": _SO_VER,
    "gestor": None,
}


def permissoes_garantir() -> None:
    """Give each existing role group this app's permissions if it has none of them (idempotent).

    Migration 0004 gives them once; this runs after every ``migrate``
    (post_migrate, after the clinic's ``grupos_garantir``), so a role group
    that ``grupos_garantir`` re-created (it knows only the clinic's
    permissions: a group deleted by hand, a test database flushed) gets them
    back. A group that has any permission of this app is left as it is (the
    gestor's choice). Groups are never created here: that is the clinic's.
    """
    from django.contrib.auth.models import Group, Permission

    daqui = Permission.objects.filter(content_type__app_label="expediente")
    for grupo in Group.objects.filter(name__in=PERMISSOES_POR_PAPEL):
        if grupo.permissions.filter(content_type__app_label="expediente").exists():
            continue
        codenames = PERMISSOES_POR_PAPEL[grupo.name]
        grupo.permissions.add(
            *(daqui if codenames is None else daqui.filter(codename__in=codenames))
        )
