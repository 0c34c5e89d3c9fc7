"""Token login, rate-limited."""

from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle


class ObterTokenView(ObtainAuthToken):
    """POST username + password → {"token": …}; at most API_LOGIN_RATE tries per client."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"
