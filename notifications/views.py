"""The inbox page (a user's own notices, newest first, and marking them read) and the home page with the
user's 待办 first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import views as accounts_views
from accounts.permissions import signed_in_user
from notifications.models import Notice
from notifications.services import mark_read
from notifications.todo import items_for


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    notices = Notice.objects.filter(recipient=user).order_by("-created_at", "-pk")
    page = Paginator(notices, 50).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def read(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Mark one (or every) notice read; with `open`, go on to the page the notice is about."""
    try:
        notice = mark_read(signed_in_user(request), pk)
    except Notice.DoesNotExist as exc:
        raise Http404 from exc
    if notice is None:
        return redirect("notifications")
    target = notice.url if notice.url.startswith("/") else ""
    if request.POST.get("open") and target and not target.startswith("//"):
        return redirect(target)
    return redirect("notifications")


def home(request: HttpRequest) -> HttpResponse:
    """The home page: for a signed-in user, the to-do list first (most urgent first), then the role's
    cards (accounts.views.home_context)."""
    context = accounts_views.home_context(request)
    if request.user.is_authenticated:
        now = context["now"]
        context["todo"] = [
            (item, item.overdue(now)) for item in items_for(signed_in_user(request), now)
        ]
    return render(request, "home.html", context)
