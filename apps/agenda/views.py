"""The staff's calendar: the day (or week) page, its actions and the booking page.

Server-rendered, no script: every action is a small POST form (CSRF) that
calls the clinic's service and redirects back (Post/Redirect/Get), with the
outcome as a django.contrib.messages message. Who may do what is the API's
table (``PAPEIS_AGENDAMENTOS``, read through ``selectors.pode``) and what
rows they see its selectors: a transition the role may not do is a 403, an
appointment the user cannot see a 404. Anonymous users go to the admin's
login page; a logged-in user without a clinic role gets a 403 (sending them
to the login page would loop: the admin sends a staff user straight back).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.clinic import services
from apps.clinic.models import ANO_MAXIMO, ANO_MINIMO
from apps.clinic.permissions import papel
from apps.clinic.selectors import agendamentos_visiveis, pacientes_visiveis

from . import selectors
from .forms import DURACAO_PADRAO, DURACOES, LIMITE_PACIENTES, AgendarForm, MotivoForm

# The action's name in the URL -> (PAPEIS_AGENDAMENTOS key, service, pt-BR outcome).
ACOES = {
    "confirmar": ("confirmar", services.agendamento_confirmar, "confirmado"),
    "cancelar": ("cancelar", services.agendamento_cancelar, "cancelado"),
    "faltou": ("marcar_falta", services.agendamento_marcar_falta, "marcado como falta"),
}

# The blocks' labels; the view translates them once per page (str() of each).
ROTULOS_DOS_BLOCOS = {
    "confirmar": gettext_lazy("Confirmar"),
    "faltou": gettext_lazy("Faltou"),
    "abrir": gettext_lazy("Abrir"),
    "cancelar": gettext_lazy("Cancelar"),
    "cancelar_agendamento": gettext_lazy("Cancelar agendamento"),
    "motivo": gettext_lazy("Motivo"),
    "motivo_longo": gettext_lazy("Motivo do cancelamento"),
    "livre": gettext_lazy("Livre"),
}


def equipe(view):
    """Staff with a clinic role only: anonymous -> admin login (?next=), no role -> 403."""

    @wraps(view)
    def _view(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if papel(request.user) is None:
            raise PermissionDenied(_("Seu perfil não tem acesso à agenda."))
        return view(request, *args, **kwargs)

    return _view


@require_safe
def raiz(request):
    """``/``: the day calendar for a logged-in user, the admin's login for anyone else."""
    if request.user.is_authenticated:
        return redirect("agenda:dia")
    return redirect_to_login(reverse("agenda:dia"), reverse("admin:login"))


def _data(texto: str | None) -> date:
    """``YYYY-MM-DD`` from the query string; today (local) when absent, invalid or not 1900-2100.

    The years are the schedule's (``ANO_MINIMO``/``ANO_MAXIMO``, as the API's
    filters): at 9999-12-31 or 0001-01-01 the page's previous/next links and
    the week's days overflowed ``date`` (a 500).
    """
    try:
        escolhido = date.fromisoformat(texto) if texto else None
    except ValueError:
        escolhido = None
    if escolhido is None or not ANO_MINIMO <= escolhido.year <= ANO_MAXIMO:
        return timezone.localdate()
    return escolhido


def _inteiro(texto: str | None) -> int | None:
    """A non-negative int from ASCII digits (under 10 of them), else None.

    ``isascii()`` too: ``"²".isdigit()`` is True and ``int("²")`` raises.
    """
    ok = texto and texto.isascii() and texto.isdigit() and len(texto) < 10
    return int(texto) if ok else None


def _contexto_admin(request, titulo: str) -> dict:
    return {**admin.site.each_context(request), "title": titulo}


@require_safe
@equipe
def dia(request):
    """The calendar: ``?dia=YYYY-MM-DD`` (today), ``?visao=semana``, ``?dentista=``, ``?duracao=``.

    Day view: one column per dentist the user sees (or the chosen one).
    Week view (Monday to Sunday): one column per day of one dentist (the
    chosen one, else the first). Free starts of ``duracao`` minutes (15/30/
    45/60, default 30) are listed for users who may book.
    """
    now = timezone.now()
    hoje = timezone.localdate(now)
    escolhido = _data(request.GET.get("dia"))
    semana = request.GET.get("visao") == "semana"
    duracao = _inteiro(request.GET.get("duracao"))
    if duracao not in dict(DURACOES):
        duracao = DURACAO_PADRAO
    todos = list(selectors.dentistas_da_agenda(request.user))
    dentista_id = _inteiro(request.GET.get("dentista"))
    filtrados = [d for d in todos if d.pk == dentista_id] or ([] if dentista_id else todos)
    if semana:
        filtrados = (filtrados or todos)[:1]
        segunda = escolhido - timedelta(days=escolhido.weekday())
        dias = [segunda + timedelta(days=i) for i in range(7)]
        passo = timedelta(days=7)
    else:
        dias = [escolhido]
        passo = timedelta(days=1)
    pode_agendar = selectors.pode(request.user, "create")
    grade = selectors.grade(
        request.user,
        dentistas=filtrados,
        dias=dias,
        now=now,
        duracao_livre=duracao if pode_agendar else None,
    )

    # The "now" line on today's column, in minutes of the axis (None outside it).
    local = timezone.localtime(now)
    agora_topo = local.hour * 60 + local.minute - grade.inicio
    if not 0 <= agora_topo <= grade.altura:
        agora_topo = None

    def link(**mudar) -> str:
        parametros = {
            "dia": escolhido.isoformat(),
            "visao": "semana" if semana else "",
            "dentista": dentista_id or "",
            "duracao": duracao if duracao != DURACAO_PADRAO else "",
        }
        parametros.update(mudar)
        return "?" + "&".join(f"{k}={v}" for k, v in parametros.items() if v)

    if semana:
        titulo = _("Semana de %(de)s a %(ate)s") % {
            "de": formats.date_format(dias[0], "d/m"),
            "ate": formats.date_format(dias[-1], "d/m/Y"),
        }
    else:
        titulo = _("Agenda de %(dia)s") % {
            "dia": formats.date_format(escolhido, "l, d/m/Y").lower()
        }
    contexto = {
        **_contexto_admin(request, titulo),
        "grade": grade,
        "dia": escolhido,
        "hoje": hoje,
        "agora_topo": agora_topo,
        "semana": semana,
        "dentistas": todos,
        "dentista_id": dentista_id,
        "duracao": duracao,
        "duracoes": DURACOES,
        "pode_agendar": pode_agendar,
        "anterior": link(dia=(escolhido - passo).isoformat()),
        "proximo": link(dia=(escolhido + passo).isoformat()),
        "link_hoje": link(dia=hoje.isoformat()),
        "link_dia": link(visao=""),
        "link_semana": link(visao="semana"),
        "volta": request.get_full_path(),
        # Once per page, not per block (a {% url %} or {% translate %} per block
        # took most of the page's time with 200 appointments).
        "url_acoes": reverse("agenda:dia") + "agendamentos/",
        "url_admin": reverse("admin:clinic_agendamento_changelist"),
        "url_agendar": reverse("agenda:agendar"),
        "rotulos": {nome: str(rotulo) for nome, rotulo in ROTULOS_DOS_BLOCOS.items()},
    }
    return render(request, "agenda/dia.html", contexto)


def _volta(request, padrao: str) -> str:
    """The page to go back to (the form's ``volta``) when it is on this site; else ``padrao``."""
    volta = request.POST.get("volta", "")
    if volta and url_has_allowed_host_and_scheme(
        volta, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return volta
    return padrao


@require_POST
@equipe
def acao(request, pk: int, nome: str):
    """POST ``/agenda/agendamentos/<pk>/<confirmar|cancelar|faltou>/``; redirect back.

    403 when the role may not do it, 404 when the user cannot see the
    appointment (role first, as the API). The service's refusal is an error
    message in its pt-BR words; nothing changes then. ``cancelar`` needs
    ``motivo``.
    """
    if nome not in ACOES:
        raise Http404
    regra, servico, feito = ACOES[nome]
    if not selectors.pode(request.user, regra):
        raise PermissionDenied(_("Seu perfil não tem permissão para esta operação."))
    agendamento = get_object_or_404(agendamentos_visiveis(request.user), pk=pk)
    dia_do_agendamento = timezone.localdate(agendamento.data_hora)
    destino = _volta(request, reverse("agenda:dia") + f"?dia={dia_do_agendamento.isoformat()}")
    extra = {}
    if nome == "cancelar":
        formulario = MotivoForm(request.POST)
        if not formulario.is_valid():
            # The field's own words: empty, too long (over 500) or with a NUL.
            messages.error(request, " ".join(formulario.errors["motivo"]))
            return HttpResponseRedirect(destino)
        extra["motivo"] = formulario.cleaned_data["motivo"]
    hora = formats.time_format(timezone.localtime(agendamento.data_hora), "H:i")
    try:
        servico(agendamento, usuario=request.user, now=timezone.now(), **extra)
    except services.TransicaoInvalida as erro:
        messages.error(
            request,
            _("Agendamento nº %(id)s não foi alterado: %(motivo)s")
            % {"id": agendamento.pk, "motivo": erro.mensagem},
        )
    except ValidationError as erro:
        messages.error(
            request,
            _("Agendamento nº %(id)s não foi alterado: %(motivo)s")
            % {"id": agendamento.pk, "motivo": " ".join(erro.messages)},
        )
    else:
        messages.success(
            request,
            _("Agendamento nº %(id)s (%(hora)s) %(feito)s.")
            % {"id": agendamento.pk, "hora": hora, "feito": _(feito)},
        )
    return HttpResponseRedirect(destino)


@require_http_methods(["GET", "POST"])
@equipe
def agendar(request):
    """``/agenda/agendar/?dentista=&inicio=YYYY-MM-DDTHH:MM&duracao=``: book a patient.

    GET shows the form (``?busca=`` narrows the patient list by name or
    CPF); POST calls ``services.agendamento_criar`` as the admin does
    (back-dated only with ``clinic.agendar_retroativo``) and, on success,
    goes to that day's calendar. The service's ValidationError is shown by
    field. Roles that may not book (PAPEIS_AGENDAMENTOS["create"]): 403.
    """
    if not selectors.pode(request.user, "create"):
        raise PermissionDenied(_("Seu perfil não tem permissão para agendar."))
    pacientes = pacientes_visiveis(request.user).order_by("nome", "id")
    dentistas = selectors.dentistas_da_agenda(request.user)
    dados = request.POST if request.method == "POST" else None
    busca = (request.GET.get("busca") or "").strip()
    oferecidos = pacientes
    if busca:
        filtro = Q(nome__icontains=busca)
        if any(c.isdigit() for c in busca):
            filtro |= Q(cpf__icontains=busca)
        oferecidos = pacientes.filter(filtro)
    if dados and dados.get("paciente"):
        # The chosen patient stays in the list when the form comes back with errors.
        oferecidos = pacientes.filter(
            Q(pk__in=oferecidos[:LIMITE_PACIENTES].values("pk"))
            | Q(pk=_inteiro(dados.get("paciente")) or 0)
        )
    inicial = {
        "dentista": _inteiro(request.GET.get("dentista")),
        "data_hora": request.GET.get("inicio"),
        "duracao_minutos": _inteiro(request.GET.get("duracao")) or DURACAO_PADRAO,
    }
    formulario = AgendarForm(
        dados,
        initial=inicial,
        pacientes=pacientes,
        oferecidos=list(oferecidos[:LIMITE_PACIENTES]),
        dentistas=dentistas,
    )
    if dados is not None and formulario.is_valid():
        d = formulario.cleaned_data
        try:
            agendamento = services.agendamento_criar(
                paciente=d["paciente"],
                dentista=d["dentista"],
                data_hora=d["data_hora"],
                duracao_minutos=d["duracao_minutos"],
                observacoes=d["observacoes"],
                usuario=request.user,
                permitir_retroativo=request.user.has_perm("clinic.agendar_retroativo"),
            )
        except ValidationError as erro:
            formulario.erros_do_servico(erro)
        else:
            messages.success(
                request,
                _("Agendamento nº %(id)s criado para %(hora)s.")
                % {
                    "id": agendamento.pk,
                    "hora": formats.date_format(
                        timezone.localtime(agendamento.data_hora), "d/m H:i"
                    ),
                },
            )
            dia_local = timezone.localdate(agendamento.data_hora)
            return redirect(
                reverse("agenda:dia") + f"?dia={dia_local.isoformat()}#agendamento-{agendamento.pk}"
            )
    contexto = {
        **_contexto_admin(request, _("Agendar")),
        "resumo": _resumo(formulario),
        "form": formulario,
        "busca": busca,
        "parametros": request.GET.urlencode(),
        "voltar": reverse("agenda:dia")
        + (f"?dia={_inicio_dia(request.GET.get('inicio'))}" if request.GET.get("inicio") else ""),
    }
    return render(request, "agenda/agendar.html", contexto, status=400 if dados else 200)


def _resumo(formulario: AgendarForm) -> str:
    """ "Dra. Alice · sexta-feira, 04/12/2026 às 08:00 · 30 min" for the slot the form came with."""
    try:
        dentista = formulario.fields["dentista"].clean(formulario["dentista"].value())
        inicio = formulario.fields["data_hora"].clean(formulario["data_hora"].value())
        duracao = formulario.fields["duracao_minutos"].clean(formulario["duracao_minutos"].value())
    except ValidationError:
        return ""
    local = timezone.localtime(inicio)
    return _("%(dentista)s · %(dia)s às %(hora)s · %(duracao)s min") % {
        "dentista": dentista.nome,
        "dia": formats.date_format(local, "l, d/m/Y").lower(),
        "hora": formats.time_format(local, "H:i"),
        "duracao": duracao,
    }


def _inicio_dia(texto: str | None) -> str:
    try:
        return datetime.fromisoformat(texto).date().isoformat()
    except (TypeError, ValueError):
        return timezone.localdate().isoformat()
