"""The browsable API, reduced to what the JSON answer already shows.

DRF's stock ``BrowsableAPIRenderer`` builds HTML forms from querysets it
does not limit to the user: the filter form of ``/api/agendamentos/`` lists
every patient of the clinic in its ``paciente`` drop-down, the PUT/POST forms
list every appointment id (issue 9, item 3). This renderer keeps the page
(the answer's JSON, pretty-printed, with its links, breadcrumbs and
headers) and renders no form at all: no filter form, no HTML form, no raw
data form, no DELETE/OPTIONS buttons. Writes go through Swagger UI
(``/api/docs/``), which builds its forms from the OpenAPI schema, not from
the database.

It is on only when ``API_NAVEGAVEL`` is true (default: the value of
``DEBUG``); production answers JSON only (core/settings.py).
https://www.django-rest-framework.org/topics/browsable-api/#customizing
"""

from rest_framework.renderers import BrowsableAPIRenderer


class NavegavelSemFormularios(BrowsableAPIRenderer):
    """``BrowsableAPIRenderer`` whose pages render the JSON answer and no form."""

    def get_filter_form(self, data, view, request):
        # django-filter's form would list every row of each foreign key.
        return None

    def get_rendered_html_form(self, data, view, method, request):
        # Serializer forms render a <select> of every related row.
        return None

    def get_raw_data_form(self, data, view, method, request):
        # Built from the view's default serializer, which is not the one the
        # writes use (bookings, transitions): a misleading template.
        return None
