"""Forms of the calendar's pages; each one's saving is a service call in the view."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DURACOES = [(15, "15 min"), (30, "30 min"), (45, "45 min"), (60, "60 min")]
DURACAO_PADRAO = 30
# Patients offered at once in the booking page's list (the search box narrows it).
LIMITE_PACIENTES = 100


class MotivoForm(forms.Form):
    motivo = forms.CharField(
        label=_("Motivo do cancelamento"),
        max_length=500,
        error_messages={"required": _("Informe o motivo do cancelamento.")},
    )


class AgendarForm(forms.Form):
    """The booking page: a patient and notes for a start the calendar offered.

    ``pacientes`` (the user's visible patients) validates the choice;
    ``oferecidos`` (at most LIMITE_PACIENTES of them, narrowed by the search)
    fills the select. ``dentistas`` the columns the user sees.
    """

    paciente = forms.ModelChoiceField(label=_("Paciente"), queryset=None)
    dentista = forms.ModelChoiceField(label=_("Dentista"), queryset=None)
    data_hora = forms.DateTimeField(
        label=_("Início"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duracao_minutos = forms.TypedChoiceField(
        label=_("Duração"), choices=DURACOES, coerce=int, initial=DURACAO_PADRAO
    )
    observacoes = forms.CharField(
        label=_("Observações"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, pacientes, oferecidos, dentistas, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paciente"].queryset = pacientes
        self.fields["paciente"].widget.choices = [("", "---------")] + [
            (p.pk, p.nome) for p in oferecidos
        ]
        self.fields["dentista"].queryset = dentistas

    def erros_do_servico(self, erro: ValidationError) -> None:
        """Put the service's ValidationError on the form: by field where the form has it."""
        if not hasattr(erro, "error_dict"):
            self.add_error(None, erro)
            return
        for campo, lista in erro.error_dict.items():
            self.add_error(campo if campo in self.fields else None, lista)
