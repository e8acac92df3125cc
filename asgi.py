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
from lib.edge import leave_form_bodies_to_django

# Twisted would parse (and on error answer an empty 400 to) every POST form body before Django sees it.
leave_form_bodies_to_django()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin checked against ALLOWED_HOSTS; the session cookie identifies the user.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
