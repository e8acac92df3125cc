"""A signed act goes ahead only with a valid signature, by the actor's own valid certificate, over
the statement the platform composed for exactly this act — once."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from accounts.actors import Actor
from audit.models import AuditEvent
from signing import algorithms, ca_simulator, services
from signing.models import Certificate, SignedAct, SigningChallenge
from signing.pki import CertificateRefused, load_certificate, sign_message
from signing.services import SignatureRefused, Signed
from tests.conftest import make_org
from tests.signing.support import enrol, signed

pytestmark = pytest.mark.django_db

DIGEST = "ab" * 32


def do_act(user, act="bid.submit", target=("trading.lot", 7), digest=DIGEST, details=None, *, sig):
    with transaction.atomic():
        return services.require_signature(
            Actor.for_user(user), act, target, digest=digest, details=details, signed=sig
        )


def refusal(exc_info) -> str:
    return str(exc_info.value.code)


@pytest.mark.parametrize("algorithm", ["p256", "sm2"])
def test_a_signed_act_is_verified_and_kept(supplier, algorithm):
    key = enrol(supplier, algorithm)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    act = do_act(supplier, sig=sig)
    assert act is not None
    assert act.user == supplier and act.organization == supplier.organization
    assert act.certificate.algorithm == algorithm
    assert act.certificate.kind == Certificate.Kind.ORGANIZATION
    statement = json.loads(act.statement)
    assert statement["act"] == "bid.submit" and statement["act_label"] == "提交投标文件"
    assert statement["target"] == {"type": "trading.lot", "id": 7}
    assert statement["digest"] == DIGEST
    assert statement["signer"]["organization_uscc"] == supplier.organization.uscc
    assert statement["asked_at"].endswith("+08:00")
    payload = services.signature_payload(act)
    assert (
        payload["signed_act"] == act.pk and payload["certificate_sha256"] == act.certificate.sha256
    )
    assert SigningChallenge.objects.get(token=sig.challenge).used_at is not None


def test_an_expert_signs_with_a_personal_certificate(expert):
    key = enrol(expert)
    act = do_act(
        expert,
        "evaluation.sign",
        ("bidding.evaluation", 3),
        sig=signed(expert, key, "evaluation.sign", "bidding.evaluation", 3, digest=DIGEST),
    )
    assert act.certificate.kind == Certificate.Kind.PERSON
    assert json.loads(act.statement)["signer"]["organization_uscc"] is None


def test_unsigned_is_refused_unless_the_development_fallback_names_the_act(supplier, settings):
    with pytest.raises(SignatureRefused) as exc:
        do_act(supplier, sig=None)
    assert refusal(exc) == "SIGNATURE_REQUIRED"
    settings.SIGNING_PASSWORD_FALLBACK = ["bid.submit"]
    assert do_act(supplier, sig=None) is None
    assert services.signature_payload(None) == {"signed": False, "fallback": True}
    with pytest.raises(SignatureRefused):
        do_act(supplier, "bid.withdraw", ("bidding.bid", 1), digest="", sig=None)
    settings.SIGNING_PASSWORD_FALLBACK = ["all"]
    assert do_act(supplier, "bid.withdraw", ("bidding.bid", 1), digest="", sig=None) is None


def test_a_forged_signature_is_refused(supplier):
    enrol(supplier)
    forger_key = ca_simulator.generate_key("p256")
    sig = signed(supplier, forger_key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    with pytest.raises(SignatureRefused) as exc:
        do_act(supplier, sig=sig)
    assert refusal(exc) == "SIGNATURE_INVALID"
    assert not SignedAct.objects.exists()


def test_a_signature_over_other_content_is_refused(supplier):
    key = enrol(supplier)
    challenge = services.issue_challenge(
        Actor.for_user(supplier),
        act="bid.submit",
        target_type="trading.lot",
        target_id=7,
        digest=DIGEST,
    )
    other = challenge.statement.replace(DIGEST, "cd" * 32).encode()
    signature = base64.b64encode(sign_message(key, other)).decode()
    with pytest.raises(SignatureRefused) as exc:
        do_act(supplier, sig=Signed(challenge.token, signature))
    assert refusal(exc) == "SIGNATURE_INVALID"


def test_a_used_challenge_is_not_accepted_again(supplier):
    key = enrol(supplier)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    do_act(supplier, sig=sig)
    with pytest.raises(SignatureRefused) as exc:
        do_act(supplier, sig=sig)
    assert refusal(exc) == "SIGNATURE_REPLAYED"
    assert SignedAct.objects.count() == 1


@pytest.mark.parametrize(
    "act, target, digest, details",
    [
        ("bid.submit", ("trading.lot", 8), DIGEST, None),  # another lot
        ("bid.modify", ("bidding.bid", 7), DIGEST, None),  # another act
        ("bid.submit", ("trading.lot", 7), "cd" * 32, None),  # another document
        ("bid.submit", ("trading.lot", 7), DIGEST, {"text": "x"}),  # other details
    ],
)
def test_a_signature_for_one_act_does_not_do_another(supplier, act, target, digest, details):
    key = enrol(supplier)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    with pytest.raises(SignatureRefused) as exc:
        do_act(supplier, act, target, digest, details, sig=sig)
    assert refusal(exc) == "SIGNATURE_MISMATCH"
    # The refused attempt used nothing up: the act it was signed for still goes ahead.
    assert do_act(supplier, sig=sig) is not None


def test_details_compare_with_browser_line_ends(supplier):
    key = enrol(supplier)
    sig = signed(
        supplier,
        key,
        "opening.object",
        "bidding.opening",
        2,
        digest=DIGEST,
        details={"text": "一\n二"},
    )
    act = do_act(
        supplier, "opening.object", ("bidding.opening", 2), DIGEST, {"text": "一\r\n二"}, sig=sig
    )
    assert json.loads(act.statement)["details"] == {"text": "一\n二"}


def test_an_expired_challenge_is_refused(supplier, settings):
    key = enrol(supplier)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    later = timezone.now() + dt.timedelta(seconds=settings.SIGNING_CHALLENGE_SECONDS + 1)
    with time_machine.travel(later), pytest.raises(SignatureRefused) as exc:
        do_act(supplier, sig=sig)
    assert refusal(exc) == "SIGNATURE_EXPIRED"


def test_another_users_challenge_is_refused(supplier, other_supplier):
    key = enrol(supplier)
    enrol(other_supplier)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    with pytest.raises(SignatureRefused) as exc:
        do_act(other_supplier, sig=sig)
    assert refusal(exc) == "SIGNATURE_UNKNOWN"


def test_malformed_wire_fields(supplier):
    assert services.parse_signed({}) is None
    assert services.parse_signed({"signing_challenge": "", "signature": ""}) is None
    for data in (
        {"signing_challenge": "x" * 43},
        {"signature": "AAAA"},
        {"signing_challenge": "x" * 43, "signature": "not base64!"},
        {"signing_challenge": "bad token with spaces", "signature": "AAAA"},
        {"signing_challenge": "x" * 43, "signature": "A" * 1000},
    ):
        with pytest.raises(SignatureRefused) as exc:
            services.parse_signed(data)
        assert refusal(exc) == "SIGNATURE_MALFORMED"


def test_a_certificate_revoked_after_enrolment_signs_nothing(supplier):
    key = enrol(supplier)
    certificate = Certificate.objects.get(holder=supplier)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    ca_simulator.revoke(certificate.serial, "p256")
    with pytest.raises(CertificateRefused) as exc:
        do_act(supplier, sig=sig)
    assert refusal(exc) == "CERTIFICATE_REVOKED"
    with pytest.raises(CertificateRefused):  # and no new challenge is handed out for it
        signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)


def test_a_certificate_that_expires_before_the_act_signs_nothing(supplier):
    actor = Actor.for_user(supplier)
    key = ca_simulator.generate_key("p256")
    start = timezone.now() - dt.timedelta(days=1) + dt.timedelta(minutes=2)
    pem = ca_simulator.issue(
        algorithms.public_key_pem(key),
        algorithm="p256",
        kind="organization",
        common_name=supplier.organization.name,
        uscc=supplier.organization.uscc,
        days=1,
        not_before=start,
    )
    services.register_certificate(actor, pem)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    later = timezone.now() + dt.timedelta(minutes=5)
    with time_machine.travel(later), pytest.raises(CertificateRefused) as exc:
        do_act(supplier, sig=sig)
    assert refusal(exc) == "CERTIFICATE_EXPIRED"


def test_a_withdrawn_certificate_signs_nothing(supplier):
    key = enrol(supplier)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    services.withdraw_certificate(
        Actor.for_user(supplier), Certificate.objects.get(holder=supplier)
    )
    with pytest.raises(CertificateRefused) as exc:
        do_act(supplier, sig=sig)
    assert refusal(exc) == "CERTIFICATE_WITHDRAWN"
    with pytest.raises(SignatureRefused) as no_certificate:
        signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    assert refusal(no_certificate) == "SIGNATURE_NO_CERTIFICATE"


def another_orgs_certificate(user) -> tuple[bytes, bytes]:
    other = make_org(name="丙公司")
    key, pem = ca_simulator.issue_with_key(
        algorithm="p256", kind="organization", common_name=other.name, uscc=other.uscc
    )
    return key, pem


def test_an_organization_certificate_of_another_organization_is_refused(supplier):
    _key, pem = another_orgs_certificate(supplier)
    with pytest.raises(CertificateRefused) as exc:
        services.register_certificate(Actor.for_user(supplier), pem)
    assert refusal(exc) == "CERTIFICATE_HOLDER_MISMATCH"
    assert not Certificate.objects.exists()


def test_at_signing_time_the_certificate_must_carry_the_signers_organization(supplier):
    # A row registered before the user moved organization (or written past the service).
    enrol(supplier)
    row = Certificate.objects.get(holder=supplier)
    key, pem = another_orgs_certificate(supplier)
    info = load_certificate(pem)
    Certificate.objects.filter(pk=row.pk).update(der=info.der, sha256=info.sha256)
    challenge_sig = None
    with pytest.raises(CertificateRefused) as exc:
        challenge_sig = signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    assert challenge_sig is None
    assert refusal(exc) == "CERTIFICATE_HOLDER_MISMATCH"


def test_the_self_test_act_changes_nothing_but_keeps_its_proof(supplier, settings):
    settings.SIGNING_PASSWORD_FALLBACK = ["all"]  # never covers the self-test
    key = enrol(supplier)
    certificate = Certificate.objects.get(holder=supplier)
    with pytest.raises(SignatureRefused):
        services.self_test_signature(Actor.for_user(supplier), certificate, None)
    sig = signed(supplier, key, "certificate.test", "signing.certificate", certificate.pk)
    act = services.self_test_signature(Actor.for_user(supplier), certificate, sig)
    assert act.act == "certificate.test"
    assert AuditEvent.objects.filter(action="signing.test").count() == 1
    verification = services.verify_signed_act(act)
    assert verification.signature_valid and verification.certificate_now is None


def test_every_change_is_audited(supplier):
    key = enrol(supplier)
    signed(supplier, key, "bid.submit", "trading.lot", 7, digest=DIGEST)
    services.withdraw_certificate(
        Actor.for_user(supplier), Certificate.objects.get(holder=supplier)
    )
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-4:] == [
        "signing.certificate_simulated",
        "signing.certificate_register",
        "signing.challenge",
        "signing.certificate_withdraw",
    ]
