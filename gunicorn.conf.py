"""gunicorn's settings for every way the site is served (make run, deploy/, tests).

gunicorn reads ``./gunicorn.conf.py`` from its working directory by default
(https://docs.gunicorn.org/en/stable/configure.html#configuration-file), and
every process of the project starts in the project root. Command-line flags
(``--bind``, ``--workers``) still win over what is set here.
"""

# One line per request on stdout. The path without its query string: searches
# (a name, a CPF) stay out of logs.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
