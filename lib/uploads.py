"""Request bodies: how big, and whose — decided before anything reads one.

Routes that take files say so with `accepts_uploads(*roles)`: their bodies may reach
MAX_UPLOAD_BYTES, every other route's MAX_REQUEST_BYTES, and only users of the named roles may send
one. Three guards apply that, each before the body is read:

- `RequestBodyLimit` wraps the ASGI application (asgi.py): a body over its route's cap is answered
  413 from its Content-Length, before Django reads a byte of it (a body without a Content-Length is
  counted as it arrives and refused once over). Django's own `ASGIHandler` would otherwise read the
  whole body first, and parse it before any view could refuse.
- `UploadRoleMiddleware` (Django, before the CSRF check — which parses a form's body to find its
  token): a logged-in user of another role is refused 403, an anonymous visitor of a page sent to
  the login page.
- `UploadRolePermission` (added to a DRF view by the decorator): the same refusal for token callers,
  in DRF's permission check, which runs before the view reads `request.data`.

Within the caps, Django streams a file larger than FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file,
never to memory. Underneath, daphne's HTTP request (Twisted's `http.Request`) parsed every
multipart POST body itself — the whole body read into memory and through the `email` parser, about
13 times its size, for `request.args`, which daphne never uses — before the application saw the
request: `daphne_without_form_parsing` turns that off. What daphne still holds (the body, once, in
its queue to the application) is measured in docs/performance.md ("Uploads").
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.cookie import parse_cookie
from django.template.defaultfilters import filesizeformat
from django.urls import Resolver404, get_resolver
from django.utils import translation
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission

from lib.api import error_body
from lib.canonical import file_sha256
from lib.errors import DomainError

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


# In `accepts_uploads`: anyone, signed in or not, may send the route a file (a self-registration's
# business licence). Such a route should name a small `max_bytes`.
ANYONE = "public"


def accepts_uploads(
    *roles: str, max_bytes: Callable[[], int] | None = None
) -> Callable[[Any], Any]:
    """Marks a view whose requests carry files (up to MAX_UPLOAD_BYTES, or the smaller `max_bytes()`
    read at each request) from users of `roles` only (`ANYONE`: every caller).

    Put it above every other decorator of the view, so the mark is on the function the URL names.
    """

    def mark(view: Any) -> Any:
        view.upload_roles = frozenset(roles)
        view.upload_max_bytes = max_bytes
        api_view_class = getattr(view, "cls", None)  # DRF's @api_view
        if api_view_class is not None:
            api_view_class.upload_roles = view.upload_roles
            api_view_class.permission_classes = [
                *api_view_class.permission_classes,
                UploadRolePermission,
            ]
        return view

    return mark


class UploadRolePermission(BasePermission):
    """DRF: only the roles the view's `accepts_uploads` names may send it a body."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS or ANYONE in view.upload_roles:
            return True
        return request.user.is_authenticated and request.user.role in view.upload_roles


class UploadRoleMiddleware(MiddlewareMixin):
    """Django: refuses an upload from a user who may not send one, before its body is parsed."""

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        roles = getattr(view, "upload_roles", None)
        if roles is None or request.method in SAFE_METHODS or ANYONE in roles:
            return None
        user = request.user
        if not user.is_authenticated:
            if hasattr(view, "cls"):
                return None  # the API may still authenticate a token; DRF's check refuses otherwise
            return redirect_to_login(request.get_full_path())
        if user.role in roles:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(error_body("FORBIDDEN", _("您没有执行此操作的权限。")), status=403)
        raise PermissionDenied


def daphne_without_form_parsing() -> None:
    """Makes daphne build its HTTP requests with Twisted's form parsing off (idempotent).

    Twisted parses every urlencoded or multipart POST body into `request.args`, which daphne never
    reads: a second in-memory copy of each upload before any permission or size check, and, for a
    multipart body it cannot parse, an empty 400 with no body sent before Django sees the request.

    Called by asgi.py, which daphne imports before it serves anything. Twisted's
    `parsePOSTFormSubmission=False` leaves the body in the temporary file daphne streams it from.
    """
    from daphne import http_protocol

    if getattr(http_protocol.WebRequest, "parses_form_bodies", True) is False:
        return

    class WebRequestWithoutFormParsing(http_protocol.WebRequest):
        parses_form_bodies = False

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)

    # HTTPFactory.buildProtocol names the request class through this module attribute.
    http_protocol.WebRequest = WebRequestWithoutFormParsing


@functools.lru_cache(maxsize=2048)
def _upload_view(path: str) -> Any:
    """The view at `path` when it accepts uploads, else None."""
    try:
        match = get_resolver().resolve(path)
    except Resolver404:
        return None
    return match.func if getattr(match.func, "upload_roles", None) is not None else None


def body_limit(path: str, content_type: bytes = b"") -> int:
    """The largest body the route at `path` accepts, in bytes: files travel as multipart/form-data,
    so only such a body on an upload route may exceed MAX_REQUEST_BYTES (a JSON body is parsed
    whole in memory, whatever the route), up to the route's own `max_bytes` when it names one."""
    if not content_type.lower().startswith(b"multipart/form-data"):
        return settings.MAX_REQUEST_BYTES
    view = _upload_view(path)
    if view is None:
        return settings.MAX_REQUEST_BYTES
    own_cap: int | None = view.upload_max_bytes() if view.upload_max_bytes is not None else None
    if own_cap is None:
        return settings.MAX_UPLOAD_BYTES
    # The form's other fields travel in the same body.
    return min(settings.MAX_UPLOAD_BYTES, own_cap + settings.MAX_REQUEST_BYTES)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def _declared_length(headers: dict[bytes, bytes]) -> int | None:
    value = headers.get(b"content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


def _language(scope: Scope, headers: dict[bytes, bytes]) -> str:
    """The reader's language, as LocaleMiddleware would choose it (cookie, then Accept-Language)."""
    request = HttpRequest()
    request.path_info = scope.get("path", "/")
    request.META["HTTP_ACCEPT_LANGUAGE"] = headers.get(b"accept-language", b"").decode("latin-1")
    request.COOKIES = parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
    return translation.get_language_from_request(request)


async def _refuse_too_large(scope: Scope, send: Send, limit: int) -> None:
    headers = _headers(scope)
    with translation.override(_language(scope, headers)):
        message = _("请求过大：此处最多接受 %(size)s。") % {"size": filesizeformat(limit)}
        if scope.get("path", "").startswith("/api/"):
            body = json.dumps(error_body("REQUEST_TOO_LARGE", message), ensure_ascii=False)
            content_type = b"application/json"
        else:
            body = (
                f'<!DOCTYPE html><html lang="{translation.get_language()}"><meta charset="utf-8">'
                f"<title>413</title><p>{html.escape(message)}</p></html>"
            )
            content_type = b"text/html; charset=utf-8"
    encoded = body.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(encoded)).encode()),
                # The rest of the body is never read: the client must not reuse the connection.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": encoded})


class RequestBodyLimit:
    """ASGI middleware: 413 for a body over its route's cap, before the application reads it."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "/")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        headers = _headers(scope)
        limit = body_limit(path, headers.get(b"content-type", b""))
        declared = _declared_length(headers)
        if declared is not None:
            if declared > limit:
                return await _refuse_too_large(scope, send, limit)
            return await self.app(scope, receive, send)
        # No Content-Length (a chunked body): count it as it comes, keep it to hand on.
        arrived: list[dict[str, Any]] = []
        size = 0
        while True:
            message = await receive()
            arrived.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                return await _refuse_too_large(scope, send, limit)
            if not message.get("more_body", False):
                break
        return await self.app(scope, _replay(arrived, receive), send)


def _replay(messages: Iterable[dict[str, Any]], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def hashed_upload(upload: Any) -> tuple[str, int]:
    """The SHA-256 and size of an uploaded file a service is about to store, after the checks every
    stored upload passes: not empty (EMPTY_FILE), within MAX_UPLOAD_BYTES (FILE_TOO_LARGE). The file
    is rewound for storing."""
    size: int | None = upload.size
    if size is None or size == 0:
        raise DomainError(gettext_lazy("文件为空。"), code="EMPTY_FILE")
    if size > settings.MAX_UPLOAD_BYTES:
        raise DomainError(gettext_lazy("文件过大。"), code="FILE_TOO_LARGE")
    digest = file_sha256(upload.chunks())
    upload.seek(0)
    return digest, size
