"""The 单一来源 page of a lot (/bidding/lots/<id>/single-source/): the notice's facts, objections still
open, and — for the agent, once the notice is over — the form recording the negotiation and the agreed
price (`bidding.single_source.record_agreement`). Thin: parse, authorize in the service, reply."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.actors import Actor
from accounts.permissions import has_perm
from bidding import single_source
from lib.errors import DomainError, NotFound
from lib.money import AmountFormField, format_amount
from trading.models import Lot, Project


class AgreementForm(forms.Form):
    price = AmountFormField(
        label=gettext_lazy("成交价格（元）"),
        help_text=gettext_lazy("以元为单位，最多两位小数；不得高于采购预算或最高限价。"),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    minutes = forms.CharField(
        label=gettext_lazy("协商情况"),
        max_length=single_source.RECORD_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    participants = forms.CharField(label=gettext_lazy("参加人员"), max_length=1000)


def _lot(request: HttpRequest, pk: int) -> Lot:
    try:
        return single_source.single_source_lot(request.user, pk)
    except NotFound as exc:
        raise Http404 from exc


def _context(request: HttpRequest, lot: Lot, form: AgreementForm | None = None) -> dict[str, Any]:
    project = lot.project
    agreed = single_source.agreement(lot)
    user = request.user
    is_agent = has_perm(user, "trading.manage_project", project)
    # The minutes are for the parties and those who oversee them; the price is public once the
    # result is (the award notice states it).
    sees_minutes = agreed is not None and single_source.may_read_minutes(user, lot, agreed)
    now = timezone.now()
    return {
        "lot": lot,
        "project": project,
        "supplier": project.invitees.select_related("organization").first(),
        "agreed": agreed,
        "sees_minutes": sees_minutes,
        "open_objections": project.objections.filter(replied_at__isnull=True).count(),
        "may_record": is_agent and agreed is None and project.status == Project.Status.PUBLISHED,
        "talks_open": project.bid_deadline is not None and now >= project.bid_deadline,
        "form": form or AgreementForm(),
        "now": now,
    }


@login_required
def single_source_page(request: HttpRequest, pk: int) -> HttpResponse:
    lot = _lot(request, pk)
    if request.method != "POST":
        return render(request, "bidding/single_source.html", _context(request, lot))
    form = AgreementForm(request.POST)
    if not form.is_valid():
        context = _context(request, lot, form)
        context["error"] = _("请检查输入：%(errors)s") % {"errors": form.errors.as_text()}
        return render(request, "bidding/single_source.html", context, status=400)
    try:
        single_source.record_agreement(
            Actor.from_request(request),
            lot,
            price=format_amount(form.cleaned_data["price"]),
            minutes=form.cleaned_data["minutes"],
            participants=form.cleaned_data["participants"],
        )
    except DomainError as exc:
        context = _context(request, lot, form)
        context["error"], context["error_code"] = exc.message, exc.code
        return render(request, "bidding/single_source.html", context, status=exc.http_status)
    messages.success(request, _("协商结果已记录，成交结果公告和成交通知书已发出。"))
    return redirect("bidding_single_source", pk=lot.pk)
