"""Pages of deposit custody (issue 4): the bidder's "my deposits", a deposit's page with its receipt and
refund notices, the center's custody dashboard, and the simulated bank used by the demo.

Views parse, authorize, call one service and reply. A DomainError re-renders the page it came from with
the user's input kept and the service's message shown, at the error's HTTP status. Objects a user may
not see answer 404; pages of another role answer 403. PDFs are rendered after the services committed,
outside any transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.actors import Actor
from accounts.models import Organization, OrgRole, Role
from accounts.permissions import has_perm, signed_in_user, visible_to
from accounts.services import has_org_role
from audit.models import Alert
from deposits import guarantee_simulator, pdf, reconciliation, services
from deposits.bank_simulator import BankSimulator
from deposits.checks import check_ledger
from deposits.demo import payer_account_for
from deposits.forms import (
    ElectronicGuaranteeForm,
    ForfeitForm,
    FxRateForm,
    GuaranteeForm,
    InstrumentActionForm,
    InstrumentForm,
    OpenAccountForm,
    RefundBatchForm,
    ScheduleRefundForm,
    SimulatedConfirmationForm,
    SimulatedPaymentForm,
    StatementForm,
    VerifyGuaranteeForm,
)
from deposits.ledger import from_fen
from deposits.models import (
    Account,
    BankNotification,
    BankStatement,
    Currency,
    Deposit,
    FxRate,
    Guarantee,
    Instrument,
    JournalLine,
    Refund,
    RefundAccountConfirmation,
    RefundBatch,
)
from lib.errors import DomainError, present
from lib.money import format_amount
from lib.uploads import accepts_uploads
from signing.services import parse_signed
from trading.forms import BEIJING
from trading.models import Lot, Registration

# Refunds still owed: not yet sent, sent and unconfirmed, or returned by the bank (to be rescheduled).
OPEN_REFUNDS = (Refund.Status.SCHEDULED, Refund.Status.INSTRUCTED, Refund.Status.FAILED)
IN_CUSTODY = (Deposit.Status.HELD, Deposit.Status.REFUND_SCHEDULED)
LIST_LIMIT = 100


def _require(request: HttpRequest, perm: str, obj: Any = None) -> None:
    """Visible but not allowed: 403."""
    if not has_perm(request.user, perm, obj):
        raise PermissionDenied


def _error_response(
    request: HttpRequest, template: str, context: dict[str, Any], exc: DomainError
) -> HttpResponse:
    context["error"] = exc.message
    context["error_code"] = exc.code
    return render(request, template, context, status=exc.http_status)


def _invalid_response(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context["error"] = _("请检查填写的内容。")
    context["error_code"] = "VALIDATION_ERROR"
    return render(request, template, context, status=400)


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = present(
        content_disposition_header(False, filename), "the disposition of a named file"
    )
    # It states the situation when printed and concerns one bidder: never kept by shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


# --- Visibility -----------------------------------------------------------------------------------


def _visible_deposit(request: HttpRequest, pk: int) -> Deposit:
    deposit = get_object_or_404(
        Deposit.objects.select_related(
            "lot__project", "organization", "account", "notification", "guarantee"
        ),
        pk=pk,
    )
    if not has_perm(request.user, "deposits.view_deposit", deposit):
        raise Http404
    return deposit


def _refund_account(refund: Refund) -> Account | None:
    """The sub-account a held payment was addressed to (None for an unknown account number)."""
    notification = refund.notification
    if notification is None:
        return refund.deposit.account if refund.deposit else None
    return Account.objects.filter(
        number=notification.account_number, kind=Account.Kind.SUB_ACCOUNT
    ).first()


def _may_view_refund(user: Any, refund: Refund) -> bool:
    if has_perm(user, "deposits.view_refund"):
        return True
    if refund.deposit_id is not None:
        return has_perm(user, "deposits.view_deposit", refund.deposit)
    # Money paid into a bidder's sub-account by someone else: the bidder sees it was held and returned.
    account = _refund_account(refund)
    return account is not None and has_perm(user, "deposits.view_account", account)


def _visible_refund(request: HttpRequest, pk: int) -> Refund:
    refund = get_object_or_404(
        Refund.objects.select_related(
            "deposit__lot__project", "deposit__organization", "deposit__account", "notification"
        ),
        pk=pk,
    )
    if not _may_view_refund(request.user, refund):
        raise Http404
    return refund


# --- The bidder: my deposits ----------------------------------------------------------------------


@dataclass
class RefundAccountView:
    """deposit.refund_account on "my deposits": the account the deposit goes back to, the hash the
    finance user signs to confirm it, and the confirmation once made."""

    details: dict[str, Any]
    confirmation: RefundAccountConfirmation | None
    may_confirm: bool
    sha256: str


@dataclass
class LotDeposits:
    """Everything about one registered lot on the bidder's page."""

    registration: Registration
    qualification: services.Qualification
    accounts: list[Account] = field(default_factory=list)
    deposits: list[Deposit] = field(default_factory=list)
    guarantees: list[Guarantee] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    held: list[BankNotification] = field(default_factory=list)
    # deposit.refund_account: each deposit paid in money, by its pk.
    refund_accounts: dict[int, RefundAccountView] = field(default_factory=dict)
    guarantee_form: GuaranteeForm | None = None
    eguarantee_form: ElectronicGuaranteeForm | None = None
    account_form: OpenAccountForm | None = None
    error: str = ""

    @property
    def lot(self) -> Lot:
        return self.registration.lot

    @property
    def deposit_rows(self) -> list[tuple[Deposit, RefundAccountView | None]]:
        return [(d, self.refund_accounts.get(d.pk)) for d in self.deposits]

    @property
    def deadline(self) -> dt.datetime | None:
        project = self.registration.project
        return project.deposit_deadline or project.bid_deadline

    @property
    def accepts_cash(self) -> bool:
        return Lot.DepositForm.CASH in (self.lot.deposit_forms or [])

    @property
    def accepts_guarantee(self) -> bool:
        return any(kind in (self.lot.deposit_forms or []) for kind in Guarantee.Kind.values)

    @property
    def form_labels(self) -> list[str]:
        labels = dict(Lot.DepositForm.choices)
        return [str(labels.get(form, form)) for form in self.lot.deposit_forms or []]

    @property
    def required(self) -> bool:
        return self.lot.deposit_amount > 0

    @property
    def currencies(self) -> list[str]:
        allowed = set(getattr(self.lot, "deposit_currencies", None) or []) | {Currency.CNY}
        return [c for c in Currency.values if c in allowed]

    @property
    def may_open_account(self) -> bool:
        opened = {account.currency for account in self.accounts}
        return self.accepts_cash and any(c not in opened for c in self.currencies)


def _my_lots(
    request: HttpRequest, *, bound: dict[int, dict[str, Any]] | None = None
) -> list[LotDeposits]:
    user = signed_in_user(request)
    org = present(user.organization, "a supplier's organization")  # _require_supplier checked it
    registrations = list(
        Registration.objects.filter(organization=org)
        .select_related("project", "lot")
        .order_by("-registered_at", "-pk")
    )
    lot_ids = [r.lot_id for r in registrations]
    accounts = visible_to(
        user,
        "deposits.view_account",
        Account.objects.filter(organization=org, kind=Account.Kind.SUB_ACCOUNT, lot_id__in=lot_ids),
    ).order_by("currency")
    deposits = visible_to(
        user,
        "deposits.view_deposit",
        Deposit.objects.filter(organization=org, lot_id__in=lot_ids).select_related(
            "account", "notification", "guarantee"
        ),
    )
    guarantees = visible_to(
        user,
        "deposits.view_guarantee",
        Guarantee.objects.filter(organization=org, lot_id__in=lot_ids),
    ).order_by("submitted_at")
    by_lot: dict[int, LotDeposits] = {}
    rows = []
    for registration in registrations:
        row = LotDeposits(
            registration, services.qualification(registration.lot, org), account_form=None
        )
        by_lot[registration.lot_id] = row
        rows.append(row)
    numbers: dict[str, int] = {}
    for account in accounts:
        by_lot[account.lot_id].accounts.append(account)
        numbers[account.number] = account.lot_id
    deposit_lot: dict[int, int] = {}
    may_confirm = has_org_role(user, OrgRole.FINANCE) or has_org_role(user, OrgRole.ADMIN)
    confirmations = {
        c.deposit_id: c
        for c in RefundAccountConfirmation.objects.filter(
            deposit__organization=org, deposit__lot_id__in=lot_ids
        )
    }
    for deposit in deposits:
        by_lot[deposit.lot_id].deposits.append(deposit)
        deposit_lot[deposit.pk] = deposit.lot_id
        view = _refund_account_view(deposit, confirmations.get(deposit.pk), may_confirm)
        if view is not None:
            by_lot[deposit.lot_id].refund_accounts[deposit.pk] = view
    for guarantee in guarantees:
        by_lot[guarantee.lot_id].guarantees.append(guarantee)
    held = BankNotification.objects.filter(account_number__in=list(numbers)).exclude(
        outcome=BankNotification.Outcome.CREDITED
    )
    held_lot: dict[int, int] = {}
    for notification in held.order_by("value_at"):
        by_lot[numbers[notification.account_number]].held.append(notification)
        held_lot[notification.pk] = numbers[notification.account_number]
    refunds = Refund.objects.filter(
        Q(deposit_id__in=list(deposit_lot)) | Q(notification_id__in=list(held_lot))
    ).order_by("due_at", "pk")
    for refund in refunds:
        lot_id = (
            deposit_lot[refund.deposit_id]
            if refund.deposit_id
            else held_lot[present(refund.notification_id, "a held payment's notification")]
        )
        by_lot[lot_id].refunds.append(refund)
    bound = bound or {}
    for row in rows:
        state = bound.get(row.lot.pk, {})
        row.error = state.get("error", "")
        if row.accepts_guarantee:
            row.guarantee_form = state.get("guarantee_form") or GuaranteeForm(
                lot=row.lot, prefix=f"g{row.lot.pk}"
            )
            row.eguarantee_form = state.get("eguarantee_form") or ElectronicGuaranteeForm(
                prefix=f"e{row.lot.pk}"
            )
        if row.may_open_account:
            form = state.get("account_form") or OpenAccountForm(prefix=f"a{row.lot.pk}")
            cast(forms.ChoiceField, form.fields["currency"]).choices = [
                c for c in Currency.choices if c[0] in row.currencies
            ]
            row.account_form = form
    return rows


def _refund_account_view(
    deposit: Deposit, confirmation: RefundAccountConfirmation | None, may_confirm: bool
) -> RefundAccountView | None:
    if deposit.form not in services.MONEY_FORMS or not deposit.payer_account:
        return None
    may = (
        may_confirm and confirmation is None and deposit.status in services.REFUND_ACCOUNT_STATUSES
    )
    return RefundAccountView(
        details=services.refund_account_details(deposit),
        confirmation=confirmation,
        may_confirm=may,
        sha256=services.refund_account_sha256(deposit),
    )


def _require_supplier(request: HttpRequest) -> None:
    user = signed_in_user(request)
    if user.role != Role.SUPPLIER or user.organization_id is None:
        raise PermissionDenied


@login_required
@require_safe
def my_deposits(request: HttpRequest) -> HttpResponse:
    if signed_in_user(request).role != Role.SUPPLIER and has_perm(
        request.user, "deposits.view_journalentry"
    ):
        return redirect("custody")
    _require_supplier(request)
    return render(request, "deposits/my_deposits.html", _my_context(request))


def _my_context(
    request: HttpRequest, bound: dict[int, dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "lots": _my_lots(request, bound=bound),
        "now": timezone.now(),
        "guarantee_simulator": guarantee_simulator.enabled(),
    }


def _lot_for_supplier(request: HttpRequest, lot_pk: int) -> Lot:
    _require_supplier(request)
    # Only lots the bidder registered for are on its page; any other is not its business.
    registration = get_object_or_404(
        Registration.objects.select_related("lot__project"),
        lot_id=lot_pk,
        organization_id=signed_in_user(request).organization_id,
    )
    return registration.lot


@login_required
@require_POST
def open_account(request: HttpRequest, lot_pk: int) -> HttpResponse:
    lot = _lot_for_supplier(request, lot_pk)
    form = OpenAccountForm(request.POST, prefix=f"a{lot.pk}")
    if not form.is_valid():
        context = _my_context(request, {lot.pk: {"account_form": form}})
        return _invalid_response(request, "deposits/my_deposits.html", context)
    try:
        account = services.open_sub_account(
            Actor.from_request(request), lot, currency=form.cleaned_data["currency"]
        )
    except DomainError as exc:
        context = _my_context(request, {lot.pk: {"account_form": form, "error": exc.message}})
        return _error_response(request, "deposits/my_deposits.html", context, exc)
    messages.success(
        request,
        _("保证金子账户：%(number)s。请从本单位账户转账至该账号。") % {"number": account.number},
    )
    return redirect(f"{reverse('my_deposits')}#lot-{lot.pk}")


@accepts_uploads(Role.SUPPLIER)
@login_required
@require_POST
def submit_guarantee(request: HttpRequest, lot_pk: int) -> HttpResponse:
    lot = _lot_for_supplier(request, lot_pk)
    form = GuaranteeForm(request.POST, request.FILES, lot=lot, prefix=f"g{lot.pk}")
    if not form.is_valid():
        context = _my_context(request, {lot.pk: {"guarantee_form": form}})
        return _invalid_response(request, "deposits/my_deposits.html", context)
    data = form.cleaned_data
    try:
        services.submit_guarantee(
            Actor.from_request(request),
            lot,
            kind=data["kind"],
            issuer=data["issuer"],
            number=data["number"],
            amount=format_amount(data["amount"]),
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            upload=data["file"],
        )
    except DomainError as exc:
        context = _my_context(request, {lot.pk: {"guarantee_form": form, "error": exc.message}})
        return _error_response(request, "deposits/my_deposits.html", context, exc)
    messages.success(request, _("保函已提交，待交易中心核验。"))
    return redirect(f"{reverse('my_deposits')}#lot-{lot.pk}")


@accepts_uploads(Role.SUPPLIER)
@login_required
@require_POST
def submit_electronic_guarantee(request: HttpRequest, lot_pk: int) -> HttpResponse:
    lot = _lot_for_supplier(request, lot_pk)
    form = ElectronicGuaranteeForm(request.POST, request.FILES, prefix=f"e{lot.pk}")
    if not form.is_valid():
        context = _my_context(request, {lot.pk: {"eguarantee_form": form}})
        return _invalid_response(request, "deposits/my_deposits.html", context)
    try:
        guarantee = services.submit_electronic_guarantee(
            Actor.from_request(request), lot, form.cleaned_data["document"]
        )
    except DomainError as exc:
        context = _my_context(request, {lot.pk: {"eguarantee_form": form, "error": exc.message}})
        return _error_response(request, "deposits/my_deposits.html", context, exc)
    messages.success(
        request,
        _("电子保函验签通过（%(issuer)s %(number)s），已计入保证金。")
        % {"issuer": guarantee.issuer, "number": guarantee.number},
    )
    return redirect(f"{reverse('my_deposits')}#lot-{lot.pk}")


@login_required
@require_POST
def guarantee_simulator_issue(request: HttpRequest, lot_pk: int) -> HttpResponse:
    """Development and demo: the simulated bank issues a signed guarantee, handed over as a file the
    bidder then files like any issuer's (off with the CA simulator: 404)."""
    if not guarantee_simulator.enabled():
        raise Http404
    lot = _lot_for_supplier(request, lot_pk)
    organization = present(signed_in_user(request).organization, "a supplier's organization")
    try:
        document = guarantee_simulator.issue(lot, organization)
    except DomainError as exc:
        context = _my_context(request, {lot.pk: {"error": exc.message}})
        return _error_response(request, "deposits/my_deposits.html", context, exc)
    response = HttpResponse(document, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = present(
        content_disposition_header(True, f"eguarantee-lot{lot.pk}.json"),
        "the disposition of a named file",
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- One deposit ----------------------------------------------------------------------------------


def _deposit_context(request: HttpRequest, deposit: Deposit, **forms: Any) -> dict[str, Any]:
    user = request.user
    return {
        "deposit": deposit,
        "refunds": deposit.refunds.order_by("-scheduled_at", "-pk"),
        "qualification": services.qualification(deposit.lot, deposit.organization),
        "forfeiture": getattr(deposit, "forfeiture", None),
        "refund_account": services.refund_account_details(deposit)
        if deposit.form in services.MONEY_FORMS and deposit.payer_account
        else None,
        "refund_account_confirmation": RefundAccountConfirmation.objects.filter(deposit=deposit)
        .select_related("confirmed_by")
        .first(),
        "may_schedule": has_perm(user, "deposits.schedule_refund", deposit),
        "may_forfeit": has_perm(user, "deposits.forfeit_deposit", deposit),
        "schedule_form": forms.get("schedule_form") or ScheduleRefundForm(),
        "forfeit_form": forms.get("forfeit_form") or ForfeitForm(),
        "now": timezone.now(),
    }


@login_required
@require_POST
def confirm_refund_account(request: HttpRequest, pk: int) -> HttpResponse:
    """The finance (or admin) user confirms, signed, the account the deposit is refunded to."""
    _require_supplier(request)
    deposit = _visible_deposit(request, pk)
    try:
        signed = parse_signed(request.POST)
        services.confirm_refund_account(Actor.from_request(request), deposit, signed=signed)
    except DomainError as exc:
        context = _my_context(request, {deposit.lot_id: {"error": exc.message}})
        return _error_response(request, "deposits/my_deposits.html", context, exc)
    messages.success(request, _("已签名确认保证金退还账户。"))
    return redirect(f"{reverse('my_deposits')}#lot-{deposit.lot_id}")


@login_required
@require_safe
def deposit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deposit = _visible_deposit(request, pk)
    return render(request, "deposits/deposit_detail.html", _deposit_context(request, deposit))


@login_required
@require_POST
def deposit_schedule_refund(request: HttpRequest, pk: int) -> HttpResponse:
    deposit = _visible_deposit(request, pk)
    form = ScheduleRefundForm(request.POST)
    template = "deposits/deposit_detail.html"
    if not form.is_valid():
        return _invalid_response(
            request, template, _deposit_context(request, deposit, schedule_form=form)
        )
    try:
        refund = services.schedule_refund(
            Actor.from_request(request), deposit, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        context = _deposit_context(request, deposit, schedule_form=form)
        return _error_response(request, template, context, exc)
    if refund is None:
        if deposit.form == Deposit.Form.GUARANTEE:
            messages.success(request, _("保函已退还（解除担保）。"))
        else:
            messages.info(request, _("该保证金已不在托管中，未重复安排退还。"))
    else:
        due = timezone.localtime(refund.due_at, BEIJING).strftime("%Y-%m-%d %H:%M")
        messages.success(request, _("已安排退还，应退日期 %(due)s。") % {"due": due})
    return redirect("deposit_detail", pk=deposit.pk)


@login_required
@require_POST
def deposit_forfeit(request: HttpRequest, pk: int) -> HttpResponse:
    deposit = _visible_deposit(request, pk)
    form = ForfeitForm(request.POST)
    template = "deposits/deposit_detail.html"
    if not form.is_valid():
        return _invalid_response(
            request, template, _deposit_context(request, deposit, forfeit_form=form)
        )
    try:
        services.forfeit_deposit(Actor.from_request(request), deposit, **form.cleaned_data)
    except DomainError as exc:
        context = _deposit_context(request, deposit, forfeit_form=form)
        return _error_response(request, template, context, exc)
    messages.success(request, _("已没收该保证金。"))
    return redirect("deposit_detail", pk=deposit.pk)


@login_required
@require_safe
def deposit_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    deposit = _visible_deposit(request, pk)
    if deposit.form != Deposit.Form.CASH or deposit.notification_id is None:
        raise Http404
    content = pdf.render_receipt(deposit)
    return _pdf_response(content, f"deposit-receipt-{deposit.pk}.pdf")


@login_required
@require_safe
def refund_notice(request: HttpRequest, pk: int) -> HttpResponse:
    refund = _visible_refund(request, pk)
    return _pdf_response(pdf.render_refund_notice(refund), f"refund-notice-{refund.pk}.pdf")


@login_required
@require_safe
def guarantee_file(request: HttpRequest, pk: int) -> FileResponse:
    guarantee = get_object_or_404(Guarantee, pk=pk)
    if not has_perm(request.user, "deposits.view_guarantee", guarantee):
        raise Http404
    name = present(guarantee.file.name, "a guarantee's file").rsplit("/", 1)[-1]
    return FileResponse(guarantee.file.open("rb"), filename=name, as_attachment=True)


# --- The custody dashboard ------------------------------------------------------------------------

# Ledger kinds shown as what the center owes or has set aside (credit-positive) and as assets/expenses
# (debit-positive).
CREDIT_KINDS = (
    Account.Kind.SUB_ACCOUNT,
    Account.Kind.SUSPENSE,
    Account.Kind.REFUNDS_PAYABLE,
    Account.Kind.FORFEITED,
    Account.Kind.LAND_EARNEST,
    Account.Kind.LAND_PRICE,
)
TOTAL_COLUMNS = (Account.Kind.CUSTODY, *CREDIT_KINDS, Account.Kind.INTEREST)


def ledger_totals() -> list[dict[str, Any]]:
    """Per currency, the balance of every kind of account (the sub-accounts summed), as positive amounts:
    one grouped SUM over the journal lines, the same sum `ledger.balance` takes per account, without
    creating book accounts on a page view."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    rows = JournalLine.objects.values("account__kind", "currency").annotate(total=Sum("amount_fen"))
    for row in rows:
        amount = from_fen(row["total"])
        kind = row["account__kind"]
        sums[row["currency"]][kind] = -amount if kind in CREDIT_KINDS else amount
    table = []
    for currency in Currency.values:
        if currency not in sums:
            continue
        table.append(
            {
                "currency": currency,
                "columns": [sums[currency].get(kind, Decimal("0.00")) for kind in TOTAL_COLUMNS],
            }
        )
    return table


@dataclass
class GuaranteeToVerify:
    """A submitted guarantee on the custody page, with its verification form and the date it must
    stay valid until."""

    guarantee: Guarantee
    form: VerifyGuaranteeForm
    required_until: dt.date


def _custody_context(request: HttpRequest, **bound: Any) -> dict[str, Any]:
    user = signed_in_user(request)
    now = timezone.now()
    query = request.GET.get("q", "").strip()
    in_custody = Deposit.objects.filter(status__in=IN_CUSTODY).select_related(
        "organization", "lot__project"
    )
    if query:
        in_custody = in_custody.filter(
            Q(lot__project__number__startswith=query)
            | Q(organization__name__contains=query)
            | Q(account__number=query)
        )
    latest_rates = []
    for currency in (Currency.HKD, Currency.USD):
        rate = FxRate.objects.filter(currency=currency).order_by("-effective_at").first()
        latest_rates.append((currency, rate))
    verify_pk, verify_form = bound.get("verify", (None, None))
    guarantees = [
        GuaranteeToVerify(
            guarantee,
            form=(
                verify_form
                if guarantee.pk == verify_pk
                else VerifyGuaranteeForm(prefix=f"v{guarantee.pk}")
            ),
            required_until=services.required_guarantee_validity(guarantee.lot),
        )
        for guarantee in Guarantee.objects.filter(status=Guarantee.Status.SUBMITTED)
        .select_related("organization", "lot__project")
        .order_by("submitted_at")[:LIST_LIMIT]
    ]
    instruments = list(
        Instrument.objects.filter(
            status__in=(Instrument.Status.RECEIVED, Instrument.Status.DISHONOURED)
        )
        .select_related("organization", "lot__project")
        .order_by("received_at", "pk")[:LIST_LIMIT]
    )
    problems = check_ledger()
    return {
        "now": now,
        "instruments": instruments,
        "instrument_form": bound.get("instrument_form") or InstrumentForm(),
        "may_register_instrument": has_perm(user, "deposits.add_instrument"),
        "may_settle_instrument": has_perm(user, "deposits.change_instrument"),
        "q": query,
        "totals": ledger_totals(),
        "total_labels": [Account.Kind(kind).label for kind in TOTAL_COLUMNS],
        "problems": problems,
        "refunds": Refund.objects.filter(status__in=OPEN_REFUNDS)
        .select_related(
            "deposit__organization",
            "deposit__lot__project",
            "deposit__refund_account_confirmation",
            "notification",
        )
        .order_by("due_at", "pk")[:LIST_LIMIT],
        "batches": RefundBatch.objects.annotate(count=Count("refunds")).order_by("-created_at")[
            :10
        ],
        "guarantees": guarantees,
        "held": BankNotification.objects.exclude(outcome=BankNotification.Outcome.CREDITED)
        .prefetch_related("refunds")
        .order_by("-received_at")[:LIST_LIMIT],
        "deposits": in_custody.order_by("-arrived_at", "-pk")[:LIST_LIMIT],
        "rates": latest_rates,
        "statements": BankStatement.objects.annotate(count=Count("lines"))[:10],
        "alerts": Alert.objects.filter(handled_at__isnull=True).order_by("-raised_at")[:LIST_LIMIT],
        "may_batch": has_perm(user, "deposits.add_refundbatch"),
        "may_verify": has_perm(user, "deposits.verify_guarantee"),
        "may_fx": has_perm(user, "deposits.add_fxrate"),
        "may_import": has_perm(user, "deposits.add_bankstatement"),
        "may_reschedule": has_perm(user, "deposits.schedule_refund"),
        "simulator": simulator_enabled() and user.role == Role.CENTER_STAFF,
        "batch_form": bound.get("batch_form") or RefundBatchForm(),
        "fx_form": bound.get("fx_form") or FxRateForm(),
        "statement_form": bound.get("statement_form") or StatementForm(),
        "error_section": bound.get("section", ""),
    }


def _require_custody_view(request: HttpRequest) -> None:
    _require(request, "deposits.view_journalentry")


@login_required
@require_safe
def custody(request: HttpRequest) -> HttpResponse:
    _require_custody_view(request)
    return render(request, "deposits/custody.html", _custody_context(request))


def _custody_error(
    request: HttpRequest, exc: DomainError | None, section: str, **bound: Any
) -> HttpResponse:
    context = _custody_context(request, section=section, **bound)
    if exc is None:
        return _invalid_response(request, "deposits/custody.html", context)
    return _error_response(request, "deposits/custody.html", context, exc)


@login_required
@require_POST
def refund_batch_create(request: HttpRequest) -> HttpResponse:
    _require_custody_view(request)
    form = RefundBatchForm(request.POST)
    if not form.is_valid():
        return _custody_error(request, None, "batch", batch_form=form)
    until = form.cleaned_data["until"]
    if until is not None:
        # "Due by that day": until the end of the day in Beijing.
        until = dt.datetime.combine(until, dt.time.max).replace(tzinfo=BEIJING)
    try:
        batch = services.create_refund_batch(Actor.from_request(request), until=until)
    except DomainError as exc:
        return _custody_error(request, exc, "batch", batch_form=form)
    if batch is None:
        messages.info(request, _("没有待发送的退款。"))
    else:
        messages.success(
            request,
            _("已生成退款批次 %(pk)s（%(count)s 笔），请下载指令文件发送银行。")
            % {"pk": batch.pk, "count": batch.refunds.count()},
        )
    return redirect(f"{reverse('custody')}#refunds")


@login_required
@require_safe
def refund_batch_csv(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(RefundBatch, pk=pk)
    _require(request, "deposits.view_refundbatch", batch)
    response = HttpResponse(batch.csv, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        True, f"refund-batch-{batch.pk}.csv"
    )
    response["X-Content-SHA256"] = batch.sha256
    return response


@login_required
@require_POST
def refund_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    _require_custody_view(request)
    refund = get_object_or_404(Refund.objects.select_related("deposit", "notification"), pk=pk)
    try:
        services.reschedule_failed_refund(Actor.from_request(request), refund)
    except DomainError as exc:
        return _custody_error(request, exc, "refunds")
    messages.success(request, _("已重新安排退还。"))
    return redirect(f"{reverse('custody')}#refunds")


@login_required
@require_POST
def guarantee_verify(request: HttpRequest, pk: int) -> HttpResponse:
    _require_custody_view(request)
    guarantee = get_object_or_404(Guarantee, pk=pk)
    form = VerifyGuaranteeForm(request.POST, prefix=f"v{guarantee.pk}")
    if not form.is_valid():
        return _custody_error(request, None, "guarantees", verify=(guarantee.pk, form))
    data = form.cleaned_data
    try:
        services.verify_guarantee(
            Actor.from_request(request),
            guarantee,
            accepted=data["decision"] == "accept",
            method=data["method"],
            note=data["note"],
        )
    except DomainError as exc:
        return _custody_error(request, exc, "guarantees", verify=(guarantee.pk, form))
    if data["decision"] == "accept":
        messages.success(request, _("保函已核验通过。"))
    else:
        messages.success(request, _("已记录保函核验不通过。"))
    return redirect(f"{reverse('custody')}#guarantees")


@login_required
@require_POST
def instrument_register(request: HttpRequest) -> HttpResponse:
    _require_custody_view(request)
    form = InstrumentForm(request.POST)
    if not form.is_valid():
        return _custody_error(request, None, "instruments", instrument_form=form)
    data = form.cleaned_data
    lot = Lot.objects.filter(
        project__number=data["project_number"].strip(), number=data["lot_number"]
    ).first()
    organization = Organization.objects.filter(uscc=data["uscc"].strip().upper()).first()
    try:
        if lot is None:
            raise DomainError(_("未找到该项目的标段/包。"), code="NOT_FOUND")
        if organization is None:
            raise DomainError(_("未找到该统一社会信用代码的供应商。"), code="NOT_FOUND")
        instrument = services.register_instrument(
            Actor.from_request(request),
            lot,
            organization,
            kind=data["kind"],
            bank=data["bank"],
            number=data["number"],
            amount=data["amount"],
            drawer_account=data["drawer_account"],
            issued_on=data["issued_on"],
            payable_until=data["payable_until"],
        )
    except DomainError as exc:
        return _custody_error(request, exc, "instruments", instrument_form=form)
    account = instrument.lot.deposit_accounts.get(organization=organization, currency=Currency.CNY)
    messages.success(
        request,
        _("票据已登记。请提交托管银行托收，收款子账号：%(account)s") % {"account": account.number},
    )
    return redirect(f"{reverse('custody')}#instruments")


@login_required
@require_POST
def instrument_settle(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """退票 (`dishonour`) or hand back (`return`) one instrument."""
    _require_custody_view(request)
    instrument = get_object_or_404(Instrument, pk=pk)
    form = InstrumentActionForm(request.POST)
    if not form.is_valid():
        return _custody_error(request, None, "instruments")
    text = form.cleaned_data["text"]
    actor = Actor.from_request(request)
    try:
        if action == "dishonour":
            services.record_dishonour(actor, instrument, reason=text)
            messages.success(request, _("已登记退票。"))
        else:
            services.return_instrument(actor, instrument, note=text)
            messages.success(request, _("已登记原票退还。"))
    except DomainError as exc:
        return _custody_error(request, exc, "instruments")
    return redirect(f"{reverse('custody')}#instruments")


@login_required
@require_POST
def fx_rate_set(request: HttpRequest) -> HttpResponse:
    _require_custody_view(request)
    form = FxRateForm(request.POST)
    if not form.is_valid():
        return _custody_error(request, None, "fx", fx_form=form)
    data = form.cleaned_data
    try:
        services.set_fx_rate(
            Actor.from_request(request),
            data["currency"],
            data["cny_per_unit"],
            source=data["source"],
        )
    except DomainError as exc:
        return _custody_error(request, exc, "fx", fx_form=form)
    messages.success(request, _("汇率已更新。"))
    return redirect(f"{reverse('custody')}#fx")


@accepts_uploads(Role.CENTER_STAFF)
@login_required
@require_POST
def statement_import(request: HttpRequest) -> HttpResponse:
    _require_custody_view(request)
    form = StatementForm(request.POST, request.FILES)
    if not form.is_valid():
        return _custody_error(request, None, "statement", statement_form=form)
    data = form.cleaned_data
    try:
        report = reconciliation.import_statement(
            Actor.from_request(request), data["bank"], data["statement_date"], data["file"]
        )
    except DomainError as exc:
        return _custody_error(request, exc, "statement", statement_form=form)
    if report.clean:
        messages.success(request, _("对账单已导入，全部勾对一致。"))
    else:
        messages.warning(request, _("对账单已导入，存在未勾对项目，请逐项核查。"))
    return redirect("statement_detail", pk=report.statement.pk)


@login_required
@require_safe
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(BankStatement, pk=pk)
    _require(request, "deposits.view_bankstatement", statement)
    report = reconciliation.reconcile(statement)
    return render(
        request,
        "deposits/statement_detail.html",
        {"statement": statement, "report": report, "lines": statement.lines.all()},
    )


# --- The bank simulator (demo) --------------------------------------------------------------------


def simulator_enabled() -> bool:
    """The simulator signs with the platform's own bank secrets, so a message from it is as good as the
    bank's: it exists only for demos and development (DEBUG), or where a deployment asks for it."""
    return bool(settings.DEPOSIT_BANK_SIMULATOR)


def _require_simulator(request: HttpRequest) -> None:
    if not simulator_enabled():
        raise Http404
    if signed_in_user(request).role != Role.CENTER_STAFF:
        raise PermissionDenied


OUTCOME_MESSAGES: dict[str, str] = {
    BankNotification.Outcome.CREDITED: _("模拟银行：到账通知已送达，款项已入投标人子账户。"),
    BankNotification.Outcome.PAYER_MISMATCH: _(
        "模拟银行：到账通知已送达，付款人与投标人不符，款项挂账待退并已预警。"
    ),
    BankNotification.Outcome.UNKNOWN_ACCOUNT: _(
        "模拟银行：到账通知已送达，收款子账户不存在，款项挂账待退。"
    ),
}


def _simulator_initial(request: HttpRequest) -> dict[str, Any]:
    """Prefill the payment from ?account=<number>: the lot's deposit, from the bidder's own account."""
    initial: dict[str, Any] = {"bank": settings.DEPOSIT_CUSTODY_BANK, "currency": Currency.CNY}
    number = request.GET.get("account", "").strip()
    account = (
        Account.objects.select_related("organization", "lot")
        .filter(number=number, kind=Account.Kind.SUB_ACCOUNT)
        .first()
        if number
        else None
    )
    if account is not None:
        initial.update(
            account_number=account.number,
            currency=account.currency,
            amount=account.bidder_lot.deposit_amount if account.currency == Currency.CNY else None,
            payer_name=account.bidder.name,
            payer_account=payer_account_for(account.bidder),
        )
    elif number:
        initial["account_number"] = number[:32]
    return initial


def _simulator_context(request: HttpRequest, form: SimulatedPaymentForm | None) -> dict[str, Any]:
    query = request.GET.get("q", "").strip()
    accounts = Account.objects.filter(kind=Account.Kind.SUB_ACCOUNT).select_related(
        "organization", "lot__project"
    )
    if query:
        accounts = accounts.filter(
            Q(number__startswith=query)
            | Q(organization__name__contains=query)
            | Q(lot__project__number__startswith=query)
        )
    result = None
    result_pk = request.GET.get("result", "")
    # ASCII digits that fit a primary key: "１２" or a hundred digits is no result, not an error.
    if result_pk.isascii() and result_pk.isdigit() and len(result_pk) <= 18:
        result = (
            BankNotification.objects.select_related("deposit").filter(pk=int(result_pk)).first()
        )
    return {
        "form": form or SimulatedPaymentForm(initial=_simulator_initial(request)),
        "q": query,
        "accounts": accounts.order_by("-created_at", "-pk")[:LIST_LIMIT],
        "instructed": Refund.objects.filter(status=Refund.Status.INSTRUCTED)
        .select_related("deposit__organization", "batch")
        .order_by("batch_id", "pk")[:LIST_LIMIT],
        "recent": BankNotification.objects.order_by("-received_at", "-pk")[:10],
        "result": result,
        "replayed": request.GET.get("replay") == "1",
    }


@login_required
def bank_simulator(request: HttpRequest) -> HttpResponse:
    _require_simulator(request)
    if request.method != "POST":
        return render(request, "deposits/simulator.html", _simulator_context(request, None))
    form = SimulatedPaymentForm(request.POST)
    if not form.is_valid():
        return _invalid_response(
            request, "deposits/simulator.html", _simulator_context(request, form)
        )
    data = form.cleaned_data
    account = (
        Account.objects.select_related("organization")
        .filter(number=data["account_number"].strip(), kind=Account.Kind.SUB_ACCOUNT)
        .first()
    )
    org = account.organization if account else None
    # The defaults make the common case one click: the bidder pays from its own (demo) account.
    payer_name = data["payer_name"].strip() or (org.name if org else "")
    payer_account = data["payer_account"].strip() or (payer_account_for(org) if org else "")
    message = BankSimulator(data["bank"]).payment(
        account_number=data["account_number"].strip(),
        amount=data["amount"],
        currency=data["currency"],
        payer_name=payer_name,
        payer_account=payer_account,
        payer_bank=data["payer_bank"].strip() or "中国工商银行珠海分行",
        value_time=data["value_time"],
        transaction_id=data["transaction_id"].strip() or None,
    )
    try:
        # Exactly what the bank endpoint does with a request body and its signature header.
        result = services.receive_bank_notification(message.bank, message.body, message.signature)
    except DomainError as exc:
        return _error_response(
            request, "deposits/simulator.html", _simulator_context(request, form), exc
        )
    return _simulator_outcome(request, result)


def _simulator_outcome(request: HttpRequest, result: services.NotificationResult) -> HttpResponse:
    notification = result.notification
    if result.replay:
        messages.info(
            request, _("模拟银行：重复的到账通知（重放），平台按原记录答复，未重复入账。")
        )
    else:
        level = (
            messages.SUCCESS
            if notification.outcome == BankNotification.Outcome.CREDITED
            else messages.WARNING
        )
        messages.add_message(request, level, OUTCOME_MESSAGES[notification.outcome])
    url = f"{reverse('bank_simulator')}?result={notification.pk}"
    return redirect(url + ("&replay=1" if result.replay else ""))


@login_required
@require_POST
def bank_simulator_replay(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a recorded notification again, byte for byte with its signature: what a bank retrying a
    delivery does."""
    _require_simulator(request)
    notification = get_object_or_404(BankNotification, pk=pk)
    try:
        result = services.receive_bank_notification(
            notification.bank, bytes(notification.body), notification.signature
        )
    except DomainError as exc:
        return _error_response(
            request, "deposits/simulator.html", _simulator_context(request, None), exc
        )
    return _simulator_outcome(request, result)


@login_required
@require_POST
def bank_simulator_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    _require_simulator(request)
    refund = get_object_or_404(Refund, pk=pk)
    form = SimulatedConfirmationForm(request.POST)
    if not form.is_valid():
        return _invalid_response(
            request, "deposits/simulator.html", _simulator_context(request, None)
        )
    status = form.cleaned_data["status"]
    message = BankSimulator().refund_confirmation(refund.pk, status=status)
    try:
        # Exactly what the bank's refund-confirmation endpoint does.
        refund = services.confirm_refund(message.bank, message.body, message.signature)
    except DomainError as exc:
        return _error_response(
            request, "deposits/simulator.html", _simulator_context(request, None), exc
        )
    if refund.status == Refund.Status.PAID:
        messages.success(
            request,
            _("模拟银行：退款 %(pk)s 已付，银行流水号 %(ref)s。")
            % {"pk": refund.pk, "ref": refund.bank_reference},
        )
    else:
        messages.warning(
            request,
            _("模拟银行：退款 %(pk)s 被银行退回（%(status)s），请工作人员重新安排。")
            % {"pk": refund.pk, "status": refund.get_status_display()},
        )
    return redirect(f"{reverse('bank_simulator')}#refunds")
