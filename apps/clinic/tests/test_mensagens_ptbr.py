"""The project's pt-BR catalog: committed compiled, matching its source, and in force."""

import gettext
from pathlib import Path

import polib
import rest_framework
from django.conf import settings
from django.utils import translation

CATALOGO = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"
DRF_MO = Path(rest_framework.__file__).parent / "locale" / "pt_BR" / "LC_MESSAGES" / "django.mo"
# Wrong readings found in DRF's own pt_BR catalog (typos, "may not" read as
# "might not", "more than" for "at least", jargon, Portuguese of Portugal).
ERROS_CONHECIDOS = (
    "Certifque",
    "pode não",
    "Pk inválido",
    "vázio",
    "diponível",
    "tenho no máximo",
    "tenha mais de",
    "suprimido",
)


def _traducoes(po: polib.POFile) -> dict[str, str]:
    return {e.msgid: e.msgstr for e in po if e.msgid and not e.obsolete}


def test_the_committed_mo_is_the_compiled_po():
    fonte = polib.pofile(str(CATALOGO / "django.po"))
    with open(CATALOGO / "django.mo", "rb") as arquivo:
        compilado = gettext.GNUTranslations(arquivo)

    catalogo = {k: v for k, v in compilado._catalog.items() if k}  # "" is the header

    assert fonte.percent_translated() == 100
    assert catalogo == _traducoes(fonte)


def test_every_override_names_a_message_drf_really_has():
    # A msgid spelled differently from DRF's source would silently never apply.
    with open(DRF_MO, "rb") as arquivo:
        do_drf = set(gettext.GNUTranslations(arquivo)._catalog)
    do_drf |= {  # in DRF's source, missing from its pt_BR catalog (English leftovers)
        "A valid biginteger is required.",
        "Integer value too large to convert to float",
        "The number of days must be between {min_days} and {max_days}.",
    }

    nossos = set(_traducoes(polib.pofile(str(CATALOGO / "django.po"))))

    assert nossos <= do_drf, sorted(nossos - do_drf)


def test_no_drf_message_the_api_answers_reads_wrong_in_pt_br():
    with open(DRF_MO, "rb") as arquivo:
        msgids = [k for k in gettext.GNUTranslations(arquivo)._catalog if isinstance(k, str) and k]

    with translation.override("pt-br"):
        traduzidas = {msgid: translation.gettext(msgid) for msgid in msgids}

    erradas = {
        msgid: texto
        for msgid, texto in traduzidas.items()
        if any(erro in texto for erro in ERROS_CONHECIDOS)
    }
    assert erradas == {}
    assert traduzidas["This field may not be blank."] == "Este campo não pode ficar em branco."
