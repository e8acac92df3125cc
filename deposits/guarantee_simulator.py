"""A simulated bank that issues electronic guarantees (电子保函), for development and the demo.

Like the bank simulator it stands in for someone outside the platform: it writes the guarantee a
bank would, signs it with a certificate the CA simulator issued to the bank (purpose "issuer"), and
hands the document back; the bidder then files it like any issuer's document
(`deposits.services.submit_electronic_guarantee`), through the same checks. It is off whenever the CA
simulator is (`CA_SIMULATOR`, refused with DEBUG off), so in production no platform code can sign a
guarantee.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from deposits import eguarantee
from deposits.models import Guarantee
from lib.canonical import canonical_bytes
from lib.errors import DomainError, NotPermitted
from signing import ca_simulator
from signing.pki import sign_message
from trading.models import Lot

BANK_NAME = "模拟银行珠海分行"
BANK_USCC = "91440400MA5BANK01D"
ALGORITHM = "sm2"


def enabled() -> bool:
    return ca_simulator.enabled()


def default_kind(lot: Lot) -> str:
    """The guarantee kind the lot accepts (a bank guarantee when it accepts both)."""
    for kind in Guarantee.Kind.values:
        if kind in (lot.deposit_forms or []):
            return kind
    raise DomainError(_("本标段不接受保函形式的保证金。"), code="FORM_NOT_ALLOWED")


def issue(
    lot: Lot,
    organization: Organization,
    *,
    amount: Decimal | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    issuer_name: str = BANK_NAME,
    algorithm: str = ALGORITHM,
) -> bytes:
    """A guarantee for `organization` on `lot`, signed by the simulated bank: by default for the
    lot's deposit, in force from the deposit deadline's day to the end of the bid validity."""
    if not enabled():
        raise NotPermitted(
            _("模拟保函出具机构仅用于开发和演示环境，当前未启用。"), code="CA_SIMULATOR_OFF"
        )
    start, until = eguarantee.required_validity(lot)
    now = timezone.now()
    key_pem, cert_pem = ca_simulator.issue_with_key(
        algorithm=algorithm,
        kind="issuer",
        common_name=issuer_name,
        organization=issuer_name,
        uscc=BANK_USCC,
        purpose="issuer",
    )
    terms = eguarantee.guarantee_terms(
        lot,
        organization,
        number=f"SIM-{now:%Y%m%d}-{secrets.token_hex(4).upper()}",
        kind=default_kind(lot),
        issuer_name=issuer_name,
        amount=lot.deposit_amount if amount is None else amount,
        valid_from=valid_from or min(timezone.localdate(now), start),
        valid_until=valid_until or until,
        issued_at=now,
    )
    signature = sign_message(key_pem, canonical_bytes(terms))
    return eguarantee.document_bytes(terms, cert_pem.decode("ascii"), signature)
