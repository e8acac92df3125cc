"""Pages: "我的数字证书" (the caller's certificates: enrol with the simulator in development, register
a CA-issued certificate, withdraw, test a signature) and a signed act's detail."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.actors import Actor
from accounts.permissions import signed_in_user
from lib.errors import DomainError
from signing import ca_simulator, services
from signing.acts import TEST_ACT
from signing.models import Certificate
from signing.pem import certificate_pem
from signing.statements import describe, parse


class RegisterForm(forms.Form):
    pem = forms.CharField(
        label=gettext_lazy("证书（PEM）"),
        max_length=services.MAX_CERTIFICATE_BYTES,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )


def _own_certificate(request: HttpRequest, pk: int) -> Certificate:
    certificate = Certificate.objects.filter(pk=pk, holder=signed_in_user(request)).first()
    if certificate is None:
        raise Http404
    return certificate


@login_required
def certificates(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "signing/certificates.html",
        {
            "certificates": services.certificates_for_display(user),
            "register_form": RegisterForm(),
            "simulator": ca_simulator.enabled(),
            "test_act": TEST_ACT,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
        return redirect("signing_certificates")
    try:
        services.register_certificate(Actor.from_request(request), form.cleaned_data["pem"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("证书已登记。"))
    return redirect("signing_certificates")


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = _own_certificate(request, pk)
    try:
        services.withdraw_certificate(Actor.from_request(request), certificate)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("证书已停用。"))
    return redirect("signing_certificates")


@login_required
@require_POST
def test_signature(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = _own_certificate(request, pk)
    try:
        signed = services.parse_signed(request.POST)
        signed_act = services.self_test_signature(Actor.from_request(request), certificate, signed)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("signing_certificates")
    messages.success(request, _("测试签名验证通过：您的密钥与证书可以正常签名。"))
    return redirect("signed_act", pk=signed_act.pk)


@login_required
def signed_act(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        act = services.visible_signed_act(request.user, pk)
    except DomainError as exc:
        raise Http404 from exc
    return render(
        request,
        "signing/signed_act.html",
        {
            "act": act,
            "lines": describe(parse(act.statement)),
            "verification": services.verify_signed_act(act),
            "certificate_pem": certificate_pem(bytes(act.certificate.der)),
        },
    )
