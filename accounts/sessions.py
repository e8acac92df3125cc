"""Login sessions a user can see and end (and an organization administrator can end for its users).

Each login's Django session is recorded at `user_logged_in` (`LoginSession`: which session, from
where, in which browser, when). When it was last used lives in the cache, keyed by the session
(`SessionActivityMiddleware` writes it at most once a minute; Redis in production, shared by every
daphne process), so reading a page writes no platform table and never rewrites the session: a session
saved on every visit would race with the requests that really change it (language, login) and would
slide its own expiry. Ending a session deletes it from the session store: that browser is logged
out at its next request. A disabled user (`is_active` off) is refused by the authentication
backends at once anyway; their sessions are deleted too so that nothing of them lingers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import LoginSession, OrgRole, User
from accounts.permissions import has_perm
from audit.services import record
from lib.addresses import client_ip
from lib.errors import NotFound
from lib.text import bounded

LAST_SEEN_PREFIX = "bidhall:session-seen:"
LAST_SEEN_EVERY = dt.timedelta(minutes=1)
USER_AGENT_CHARS = 200


def _store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def _seen_key(session_key: str) -> str:
    return LAST_SEEN_PREFIX + session_key


def last_seen(session_key: str) -> dt.datetime | None:
    seen = cache.get(_seen_key(session_key))
    return parse_datetime(seen) if isinstance(seen, str) else None


def session_alive(session_key: str) -> bool:
    """Whether a login session still exists (not ended, not expired): long-lived sockets ask.
    Loading an ended or expired session finds nothing and writes nothing."""
    return "_auth_user_id" in _store(session_key).load()


def record_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """`user_logged_in` receiver: remember the login's session (an API token login has none)."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if request is None or not key:
        return
    agent = request.META.get("HTTP_USER_AGENT", "")
    LoginSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "ip": client_ip(request.META),
            "user_agent": str(bounded(agent if isinstance(agent, str) else "", USER_AGENT_CHARS)),
            "ended_at": None,
        },
    )


class SessionActivityMiddleware:
    """Notes in a signed-in user's session when it was last used (at most once a minute)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        key = getattr(session, "session_key", None)
        if user is not None and key and user.is_authenticated:
            now = timezone.now()
            last = last_seen(key)
            if last is None or abs(now - last) >= LAST_SEEN_EVERY:
                cache.set(_seen_key(key), now.isoformat(), settings.SESSION_COOKIE_AGE)
        return self.get_response(request)


@dataclass(frozen=True)
class SessionRow:
    session: LoginSession
    last_seen: dt.datetime | None
    current: bool


def open_sessions(user: User, current_key: str | None = None) -> list[SessionRow]:
    """The user's sessions that still exist in the session store, newest first."""
    rows = []
    for login in LoginSession.objects.filter(user=user, ended_at__isnull=True):
        store = _store(login.session_key)
        if not store.exists(login.session_key):
            continue  # expired or logged out: nothing left to end
        seen = last_seen(login.session_key)
        rows.append(SessionRow(login, seen or login.created_at, login.session_key == current_key))
    return rows


def _may_end(actor: Actor, user: User) -> bool:
    acting = actor.user
    if acting is None:
        return actor.is_system
    if acting.pk == user.pk:
        return True
    if has_perm(acting, "accounts.change_user"):
        return True
    return (
        user.organization_id is not None
        and acting.organization_id == user.organization_id
        and acting.org_role_grants.filter(role=OrgRole.ADMIN).exists()
    )


def end_session(actor: Actor, login: LoginSession) -> LoginSession:
    """End one session: its user, their organization's administrator or center staff may."""
    if not _may_end(actor, login.user):
        raise NotFound(_("未找到该会话。"))
    with transaction.atomic():
        _end(login)
        record(
            actor,
            "accounts.session.ended",
            login.user,
            {"session": login.pk, "ip": login.ip, "started_at": login.created_at},
        )
    return login


def _end(login: LoginSession) -> None:
    _store(login.session_key).delete(login.session_key)
    cache.delete(_seen_key(login.session_key))
    if login.ended_at is None:
        login.ended_at = timezone.now()
        login.save(update_fields=["ended_at"])


def end_all_sessions(user: User) -> int:
    """End every recorded session of `user` (inside the caller's audited transaction)."""
    logins = list(LoginSession.objects.filter(user=user, ended_at__isnull=True))
    for login in logins:
        _end(login)
    return len(logins)
