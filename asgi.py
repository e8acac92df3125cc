"""ASGI entry point: HTTP goes to Django, WebSockets to Channels consumers.

Served by daphne: `daphne asgi:application`.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Populate the app registry before any consumer (and so any model) is imported.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator

from config.routing import websocket_urlpatterns
from lib.uploads import RequestBodyLimit, daphne_without_form_parsing

# Daphne's HTTP layer would otherwise parse every multipart body in memory (lib/uploads.py).
daphne_without_form_parsing()

application = ProtocolTypeRouter(
    {
        # A body over its route's cap is refused before Django reads it (lib/uploads.py).
        "http": RequestBodyLimit(django_asgi_app),
        # Origin checked against ALLOWED_HOSTS; the session cookie identifies the user.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
