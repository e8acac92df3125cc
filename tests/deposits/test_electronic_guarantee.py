"""电子保函: a guarantee signed by its issuer is verified on receipt and qualifies at once; anything
forged, untrusted, short or meant for someone else is refused with its code and leaves nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.actors import Actor
from audit.models import AuditEvent
from deposits import eguarantee, guarantee_simulator, services
from deposits.checks import check_ledger
from deposits.models import Deposit, Guarantee, JournalEntry
from lib.canonical import canonical_bytes
from lib.errors import DomainError
from signing import ca_simulator
from signing.models import Certificate, SimulatedAuthority
from signing.pki import load_certificate, sign_message
from tests.deposits.helpers import T0, tender
from tests.deposits.test_api import assert_error
from trading import services as trading

pytestmark = pytest.mark.django_db

D = "/api/v1/deposits"
NOW = T0 + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def traveller():
    with time_machine.travel(NOW, tick=False) as moving:
        yield moving


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def project(agent, staff):
    return tender(agent, staff)


@pytest.fixture
def lot(project, supplier, other_supplier):
    lot = project.lots.get()
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        trading.register(Actor.for_user(supplier), lot)
        trading.register(Actor.for_user(other_supplier), lot)
    return lot


def submit(user, lot, document: bytes) -> Guarantee:
    return services.submit_electronic_guarantee(Actor.for_user(user), lot, document)


def refused(user, lot, document: bytes) -> DomainError:
    before = (Guarantee.objects.count(), Deposit.objects.count(), AuditEvent.objects.count())
    with pytest.raises(DomainError) as caught:
        submit(user, lot, document)
    # Nothing half done: no guarantee, no deposit, no audit event.
    assert (
        Guarantee.objects.count(),
        Deposit.objects.count(),
        AuditEvent.objects.count(),
    ) == before
    return caught.value


def resigned(document: bytes, change, key_pem: bytes | None = None) -> bytes:
    """The document with its guarantee changed by `change`, signed again with `key_pem` (or left with
    its old signature when None)."""
    parsed = json.loads(document)
    change(parsed["guarantee"])
    if key_pem is not None:
        signature = sign_message(key_pem, canonical_bytes(parsed["guarantee"]))
        parsed["signature"] = base64.b64encode(signature).decode()
    return json.dumps(parsed, ensure_ascii=False).encode()


def signed_by(lot, organization, *, key_pem: bytes, cert_pem: bytes, **terms: Any) -> bytes:
    start, until = eguarantee.required_validity(lot)
    guarantee = eguarantee.guarantee_terms(
        lot,
        organization,
        number=terms.pop("number", "BG-E-1"),
        kind="bank_guarantee",
        issuer_name=terms.pop("issuer_name", guarantee_simulator.BANK_NAME),
        amount=terms.pop("amount", lot.deposit_amount),
        valid_from=terms.pop("valid_from", start),
        valid_until=terms.pop("valid_until", until),
        issued_at=dt.datetime.now(dt.UTC),
    )
    signature = sign_message(key_pem, canonical_bytes(guarantee))
    return eguarantee.document_bytes(guarantee, cert_pem.decode(), signature)


def bank_key(**options: Any) -> tuple[bytes, bytes]:
    return ca_simulator.issue_with_key(
        algorithm="sm2",
        kind="issuer",
        common_name=guarantee_simulator.BANK_NAME,
        organization=guarantee_simulator.BANK_NAME,
        uscc=guarantee_simulator.BANK_USCC,
        purpose="issuer",
        **options,
    )


# --- Accepted -------------------------------------------------------------------------------------


def test_a_signed_guarantee_is_verified_on_receipt_and_qualifies(lot, supplier):
    assert services.qualification(lot, supplier.organization).code == "NO_DEPOSIT"
    document = guarantee_simulator.issue(lot, supplier.organization)
    guarantee = submit(supplier, lot, document)
    assert guarantee.status == Guarantee.Status.VERIFIED
    assert guarantee.verification == "电子保函验签"
    assert guarantee.electronic and guarantee.amount == Decimal("500000.00")
    certificate = guarantee.certificate
    assert certificate is not None and certificate.kind == Certificate.Kind.ISSUER
    assert certificate.sha256 == load_certificate(json.loads(document)["certificate"]).sha256
    with guarantee.file.open("rb") as stored:
        assert stored.read() == document  # kept exactly as the issuer signed it
    result = services.qualification(lot, supplier.organization)
    assert (result.qualified, result.counted_cny) == (True, Decimal("500000.00"))
    actions = list(
        AuditEvent.objects.filter(
            object_type="deposits.guarantee", object_id=str(guarantee.pk)
        ).values_list("action", flat=True)
    )
    assert actions == ["deposits.guarantee.submitted", "deposits.guarantee.verified"]
    verified = AuditEvent.objects.get(action="deposits.guarantee.verified")
    assert verified.payload["certificate"] == certificate.sha256


def test_the_same_issuer_certificate_is_registered_once(lot, supplier, other_supplier):
    key_pem, cert_pem = bank_key()
    submit(supplier, lot, signed_by(lot, supplier.organization, key_pem=key_pem, cert_pem=cert_pem))
    submit(
        other_supplier,
        lot,
        signed_by(
            lot, other_supplier.organization, key_pem=key_pem, cert_pem=cert_pem, number="BG-E-2"
        ),
    )
    assert Certificate.objects.filter(kind=Certificate.Kind.ISSUER).count() == 1


def test_the_same_guarantee_twice_is_a_duplicate(lot, supplier):
    document = guarantee_simulator.issue(lot, supplier.organization)
    submit(supplier, lot, document)
    assert refused(supplier, lot, document).code == "GUARANTEE_DUPLICATE"


def test_guarantees_never_pass_the_ledger(lot, supplier):
    submit(supplier, lot, guarantee_simulator.issue(lot, supplier.organization))
    assert JournalEntry.objects.count() == 0
    assert check_ledger() == []


# --- Signatures and issuers ----------------------------------------------------------------------


def test_a_forged_signature_is_refused(lot, supplier):
    _key_pem, cert_pem = bank_key()
    forger_key = ca_simulator.generate_key("sm2")
    document = signed_by(lot, supplier.organization, key_pem=forger_key, cert_pem=cert_pem)
    assert refused(supplier, lot, document).code == "GUARANTEE_SIGNATURE_INVALID"


def test_a_tampered_amount_breaks_the_signature(lot, supplier):
    document = guarantee_simulator.issue(lot, supplier.organization, amount=Decimal("1000.00"))

    def raise_amount(guarantee: dict[str, Any]) -> None:
        guarantee["amount"] = "500000.00"

    assert refused(supplier, lot, resigned(document, raise_amount)).code == (
        "GUARANTEE_SIGNATURE_INVALID"
    )


def test_a_certificate_of_an_untrusted_ca_is_refused(lot, supplier):
    key_pem, cert_pem = bank_key()
    document = signed_by(lot, supplier.organization, key_pem=key_pem, cert_pem=cert_pem)
    # The root that issued it is no longer one the platform trusts (a new root replaces it).
    SimulatedAuthority.objects.filter(purpose="issuer").delete()
    ca_simulator.root("sm2", purpose="issuer")
    error = refused(supplier, lot, document)
    assert error.code == "GUARANTEE_ISSUER_UNTRUSTED"
    assert "CERTIFICATE_UNTRUSTED" in error.message


def test_a_bidders_own_certificate_is_no_issuer(lot, supplier):
    # Valid and trusted for the bidder's own acts, but from the CA of parties, not of issuers.
    key_pem, cert_pem = ca_simulator.issue_with_key(
        algorithm="sm2",
        kind="organization",
        common_name=guarantee_simulator.BANK_NAME,
        uscc=supplier.organization.uscc,
    )
    document = signed_by(lot, supplier.organization, key_pem=key_pem, cert_pem=cert_pem)
    assert refused(supplier, lot, document).code == "GUARANTEE_ISSUER_UNTRUSTED"


def test_an_expired_issuer_certificate_is_refused(lot, supplier):
    key_pem, cert_pem = bank_key(days=1, not_before=NOW - dt.timedelta(days=10))
    document = signed_by(lot, supplier.organization, key_pem=key_pem, cert_pem=cert_pem)
    error = refused(supplier, lot, document)
    assert error.code == "GUARANTEE_ISSUER_UNTRUSTED"
    assert "CERTIFICATE_EXPIRED" in error.message


def test_a_revoked_issuer_certificate_is_refused(lot, supplier):
    key_pem, cert_pem = bank_key()
    document = signed_by(lot, supplier.organization, key_pem=key_pem, cert_pem=cert_pem)
    ca_simulator.revoke(
        load_certificate(cert_pem).serial_hex, "sm2", "issuer", at=NOW - dt.timedelta(minutes=1)
    )
    error = refused(supplier, lot, document)
    assert error.code == "GUARANTEE_ISSUER_UNTRUSTED"
    assert "CERTIFICATE_REVOKED" in error.message


def test_the_issuer_name_must_be_the_certificates(lot, supplier):
    key_pem, cert_pem = bank_key()
    document = signed_by(
        lot, supplier.organization, key_pem=key_pem, cert_pem=cert_pem, issuer_name="中国银行"
    )
    assert refused(supplier, lot, document).code == "GUARANTEE_MISMATCH"


# --- Terms --------------------------------------------------------------------------------------


def test_an_amount_below_the_deposit_is_refused(lot, supplier):
    document = guarantee_simulator.issue(lot, supplier.organization, amount=Decimal("499999.99"))
    assert refused(supplier, lot, document).code == "GUARANTEE_AMOUNT_SHORT"


def test_a_validity_short_of_the_bid_validity_is_refused(lot, supplier):
    _start, until = eguarantee.required_validity(lot)
    short = guarantee_simulator.issue(
        lot, supplier.organization, valid_until=until - dt.timedelta(days=1)
    )
    assert refused(supplier, lot, short).code == "GUARANTEE_VALIDITY_SHORT"
    late = guarantee_simulator.issue(
        lot, supplier.organization, valid_from=_start + dt.timedelta(days=1)
    )
    assert refused(supplier, lot, late).code == "GUARANTEE_VALIDITY_SHORT"


def test_a_guarantee_for_another_applicant_is_refused(lot, supplier, other_supplier):
    theirs = guarantee_simulator.issue(lot, other_supplier.organization)
    error = refused(supplier, lot, theirs)
    assert error.code == "GUARANTEE_MISMATCH" and "applicant" in error.message


def test_a_guarantee_for_another_lot_is_refused(lot, supplier, agent, staff):
    other_lot = tender(agent, staff).lots.get()
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        trading.register(Actor.for_user(supplier), other_lot)
    document = guarantee_simulator.issue(other_lot, supplier.organization)
    error = refused(supplier, lot, document)
    assert error.code == "GUARANTEE_MISMATCH"


def test_the_beneficiary_must_be_the_tenderer(lot, supplier):
    key_pem, cert_pem = bank_key()
    document = signed_by(lot, supplier.organization, key_pem=key_pem, cert_pem=cert_pem)

    def to_the_bidder(guarantee: dict[str, Any]) -> None:
        guarantee["beneficiary"] = {"uscc": supplier.organization.uscc, "name": "x"}

    error = refused(supplier, lot, resigned(document, to_the_bidder, key_pem))
    assert error.code == "GUARANTEE_MISMATCH" and "beneficiary" in error.message


def test_only_registered_bidders_file_guarantees(project, supplier):
    lot = project.lots.get()
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        document = guarantee_simulator.issue(lot, supplier.organization)
    assert refused(supplier, lot, document).code == "NOT_REGISTERED"


# --- Malformed documents ---------------------------------------------------------------------------


def _valid(lot, supplier) -> bytes:
    return guarantee_simulator.issue(lot, supplier.organization)


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: b"not json",
        lambda d: d[: len(d) // 2],
        lambda d: b"\xff\xfe" + d,
        lambda d: b"[]",
        lambda d: b"[" * 50000,
        lambda d: d.replace(b'"format"', b'"format": "x", "format"', 1),
        lambda d: d.replace(b'"500000.00"', b"500000.0", 1),
        lambda d: d.replace(b'"500000.00"', b'"500000"', 1),
        lambda d: d.replace(b'"500000.00"', '"５00000.00"'.encode(), 1),
        lambda d: d.replace(b'"lot_number": 1', b'"lot_number": true', 1),
        lambda d: d.replace(b'"lot_number": 1', b'"lot_number": NaN', 1),
        lambda d: d.replace(b'"currency": "CNY"', b'"currency": "USD"', 1),
        lambda d: d.replace(b'"currency": "CNY"', b'"currency": "CNY", "note": "x"', 1),
        lambda d: d.replace(b'"kind": "bank_guarantee", ', b"", 1),
        lambda d: d.replace(b'"signature": "', b'"signature": "!!', 1),
        lambda d: d.replace(
            b"-----BEGIN CERTIFICATE-----", b"-----BEGIN CERTIFICATE-----\\nAAAA", 1
        ),
        lambda d: d.replace(b'bidhall-eguarantee-v1"', b'bidhall-eguarantee-v2"', 1),
    ],
)
def test_a_malformed_document_is_refused_with_a_code(lot, supplier, damage):
    document = json.dumps(json.loads(_valid(lot, supplier)), ensure_ascii=False).encode()
    error = refused(supplier, lot, damage(document))
    assert error.code in ("GUARANTEE_MALFORMED", "GUARANTEE_ISSUER_UNTRUSTED"), error.code


def test_an_oversized_document_is_refused_before_parsing(lot, supplier):
    document = b" " * (eguarantee.MAX_DOCUMENT_BYTES + 1)
    assert refused(supplier, lot, document).code == "GUARANTEE_TOO_LARGE"


# --- API and visibility ---------------------------------------------------------------------------


def post_document(client, lot, document: bytes):
    return client.post(
        f"{D}/lots/{lot.pk}/electronic-guarantees/", document, content_type="application/json"
    )


def test_the_api_takes_the_document_as_the_body(api, lot, supplier):
    simulated = api(supplier).post(f"{D}/lots/{lot.pk}/guarantee-simulator/")
    assert simulated.status_code == 201, simulated.content
    document = json.dumps(simulated.json(), ensure_ascii=False).encode()
    filed = post_document(api(supplier), lot, document)
    assert filed.status_code == 201, filed.content
    body = filed.json()
    assert (body["status"], body["verification"], body["electronic"]) == (
        "verified",
        "电子保函验签",
        True,
    )
    assert len(body["certificate_sha256"]) == 64
    forged = document.replace(b'"500000.00"', b'"600000.00"')
    assert_error(post_document(api(supplier), lot, forged), 400, "GUARANTEE_SIGNATURE_INVALID")
    assert_error(post_document(api(supplier), lot, b"{"), 400, "GUARANTEE_MALFORMED")
    assert_error(post_document(api(supplier), lot, document), 409, "GUARANTEE_DUPLICATE")


def test_the_issuer_simulator_is_for_registered_bidders_and_off_in_production(
    api, lot, supplier, agent, settings
):
    url = f"{D}/lots/{lot.pk}/guarantee-simulator/"
    assert_error(api(agent).post(url), 403, "FORBIDDEN")
    settings.CA_SIMULATOR = False
    assert_error(api(supplier).post(url), 404, "NOT_FOUND")


def test_nobody_else_sees_an_electronic_guarantee_before_or_after_the_opening(
    api, client, lot, project, supplier, other_supplier, agent, staff, supervisor
):
    guarantee = submit(supplier, lot, guarantee_simulator.issue(lot, supplier.organization))
    listing = f"{D}/guarantees/"
    moments = [NOW, project.bid_deadline + dt.timedelta(hours=2)]
    for moment in moments:
        with time_machine.travel(moment, tick=False):
            for user in (agent, other_supplier):
                assert api(user).get(listing).json()["results"] == []
                assert api(user).get(f"{D}/mine/").json()["guarantees"] == []
                client.force_login(user)
                page = client.get(f"/deposits/guarantees/{guarantee.pk}/file/")
                assert page.status_code == 404
                assert guarantee.number not in client.get("/deposits/").content.decode()
            for user in (supplier, staff, supervisor):
                ids = [g["id"] for g in api(user).get(listing).json()["results"]]
                assert ids == [guarantee.pk]
            mine = api(supplier).get(f"{D}/mine/").json()["guarantees"]
            assert [(g["issuer"], g["amount"]) for g in mine] == [
                (guarantee_simulator.BANK_NAME, "500000.00")
            ]


# --- Pages ------------------------------------------------------------------------------------------


def test_a_bidder_gets_a_simulated_guarantee_and_files_it_on_its_page(client, lot, supplier):
    client.force_login(supplier)
    page = client.get("/deposits/")
    assert "提交电子保函（自动验签）" in page.content.decode()
    downloaded = client.post(f"/deposits/lots/{lot.pk}/guarantee-simulator/")
    assert downloaded.status_code == 200
    assert "attachment" in downloaded["Content-Disposition"]
    document = downloaded.content
    upload = SimpleUploadedFile("保函.json", document, content_type="application/json")
    filed = client.post(
        f"/deposits/lots/{lot.pk}/electronic-guarantee/", {f"e{lot.pk}-document": upload}
    )
    assert filed.status_code == 302, filed.content.decode()[:500]
    guarantee = Guarantee.objects.get()
    assert (guarantee.status, guarantee.electronic) == (Guarantee.Status.VERIFIED, True)
    assert services.qualification(lot, supplier.organization).qualified


def test_the_page_names_a_refusal_and_keeps_nothing(client, lot, supplier):
    client.force_login(supplier)
    document = guarantee_simulator.issue(lot, supplier.organization, amount=Decimal("100.00"))
    upload = SimpleUploadedFile("保函.json", document, content_type="application/json")
    answer = client.post(
        f"/deposits/lots/{lot.pk}/electronic-guarantee/", {f"e{lot.pk}-document": upload}
    )
    assert answer.status_code == 400
    assert "低于应缴保证金" in answer.content.decode()
    assert not Guarantee.objects.exists()


def test_the_simulator_page_is_off_in_production(client, lot, supplier, settings):
    settings.CA_SIMULATOR = False
    client.force_login(supplier)
    assert client.post(f"/deposits/lots/{lot.pk}/guarantee-simulator/").status_code == 404
    assert "向模拟银行申请电子保函" not in client.get("/deposits/").content.decode()
