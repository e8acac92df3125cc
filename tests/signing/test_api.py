"""The signing API: who may ask, register, withdraw, enrol and read (anonymous, the holder, another
user, center staff, supervisors)."""

from __future__ import annotations

import base64
import json

import pytest
from django.db import transaction

from accounts.actors import Actor
from signing import algorithms, ca_simulator, services
from signing.models import Certificate, SignedAct
from signing.pki import sign_message
from tests.signing.support import enrol, signed

pytestmark = pytest.mark.django_db

CHALLENGES = "/api/v1/signing/challenges/"
CERTIFICATES = "/api/v1/signing/certificates/"
SIMULATOR = "/api/v1/signing/simulator/certificates/"


def self_test(user, key) -> SignedAct:
    certificate = Certificate.objects.get(holder=user)
    return services.self_test_signature(
        Actor.for_user(user),
        certificate,
        signed(user, key, "certificate.test", "signing.certificate", certificate.pk),
    )


def test_enrol_register_ask_sign_and_act_through_the_api(api, supplier):
    client = api(supplier)
    key = ca_simulator.generate_key("p256")
    issued = client.post(
        SIMULATOR,
        {"public_key": algorithms.public_key_pem(key).decode(), "algorithm": "p256"},
        format="json",
    )
    assert issued.status_code == 201, issued.json()
    registered = client.post(CERTIFICATES, {"pem": issued.json()["certificate"]}, format="json")
    assert registered.status_code == 201, registered.json()
    certificate = registered.json()
    assert certificate["kind"] == "organization"
    assert certificate["organization_uscc"] == supplier.organization.uscc
    assert [c["sha256"] for c in client.get(CERTIFICATES).json()] == [certificate["sha256"]]

    asked = client.post(
        CHALLENGES,
        {
            "act": "certificate.test",
            "target_type": "signing.certificate",
            "target_id": certificate["id"],
            "certificate": certificate["sha256"],
        },
        format="json",
    )
    assert asked.status_code == 201, asked.json()
    body = asked.json()
    assert json.loads(body["statement"])["challenge"] == body["challenge"]
    assert body["summary"][0]["value"] == "测试签名（不产生任何业务效力）"
    signature = base64.b64encode(sign_message(key, body["statement"].encode())).decode()
    act = services.self_test_signature(
        Actor.for_user(supplier),
        Certificate.objects.get(pk=certificate["id"]),
        services.parse_signed({"signing_challenge": body["challenge"], "signature": signature}),
    )
    shown = client.get(f"/api/v1/signing/acts/{act.pk}/").json()
    assert shown["statement"] == body["statement"] and shown["signature"] == signature
    assert shown["certificate"]["pem"].startswith("-----BEGIN CERTIFICATE-----")


def test_challenges_are_refused_without_a_certificate_or_for_unknown_acts(api, supplier):
    client = api(supplier)
    body = {"act": "bid.submit", "target_type": "trading.lot", "target_id": 1}
    answer = client.post(CHALLENGES, body, format="json")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "SIGNATURE_NO_CERTIFICATE"
    enrol(supplier)
    answer = client.post(CHALLENGES, {**body, "act": "bid.nothing"}, format="json")
    assert answer.status_code == 400
    answer = client.post(CHALLENGES, {**body, "target_type": "bidding.bid"}, format="json")
    assert answer.json()["error"]["code"] == "SIGNATURE_MISMATCH"
    answer = client.post(CHALLENGES, {**body, "digest": "xyz"}, format="json")
    assert answer.json()["error"]["code"] == "SIGNATURE_MALFORMED"
    assert client.post(CHALLENGES, body, format="json").status_code == 201


def test_anonymous_callers_get_nothing(api, supplier):
    key = enrol(supplier)
    act = self_test(supplier, key)
    client = api(None)
    for method, url in [
        ("post", CHALLENGES),
        ("get", CERTIFICATES),
        ("post", CERTIFICATES),
        ("post", SIMULATOR),
        ("post", f"{CERTIFICATES}{act.certificate_id}/withdraw/"),
        ("get", f"/api/v1/signing/acts/{act.pk}/"),
    ]:
        answer = getattr(client, method)(url, {}, format="json")
        assert answer.status_code in (401, 403), (method, url, answer.status_code)


def test_who_sees_a_signed_act(api, supplier, other_supplier, staff, supervisor, agent):
    key = enrol(supplier)
    act = self_test(supplier, key)
    colleague = type(supplier).objects.create(
        username="colleague", organization=supplier.organization
    )
    url = f"/api/v1/signing/acts/{act.pk}/"
    for user, status in [
        (supplier, 200),
        (colleague, 200),
        (staff, 200),
        (supervisor, 200),
        (other_supplier, 404),
        (agent, 404),
    ]:
        assert api(user).get(url).status_code == status, user.username
    assert api(supplier).get("/api/v1/signing/acts/999999/").status_code == 404


def test_certificates_list_only_the_callers_own(api, supplier, other_supplier, staff):
    enrol(supplier)
    assert api(other_supplier).get(CERTIFICATES).json() == []
    assert api(staff).get(CERTIFICATES).json() == []
    assert len(api(supplier).get(CERTIFICATES).json()) == 1


def test_who_may_withdraw(api, supplier, other_supplier, staff, supervisor):
    enrol(supplier)
    certificate = Certificate.objects.get(holder=supplier)
    url = f"{CERTIFICATES}{certificate.pk}/withdraw/"
    assert api(other_supplier).post(url).status_code == 404
    assert api(supervisor).post(url).status_code == 403  # sees it, changes nothing
    assert api(supplier).post(url).status_code == 200
    assert api(supplier).post(url).json()["error"]["code"] == "CERTIFICATE_WITHDRAWN"
    enrol(supplier)
    second = Certificate.objects.filter(holder=supplier, withdrawn_at__isnull=True).get()
    assert api(staff).post(f"{CERTIFICATES}{second.pk}/withdraw/").status_code == 200


def test_the_simulator_is_not_there_when_off(api, supplier, settings):
    settings.CA_SIMULATOR = False
    key = algorithms.generate_private_key("p256")
    answer = api(supplier).post(
        SIMULATOR,
        {"public_key": algorithms.public_key_pem(key).decode(), "algorithm": "p256"},
        format="json",
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NOT_FOUND"


def test_the_simulator_refuses_a_key_of_the_wrong_algorithm(api, supplier):
    key = ca_simulator.generate_key("sm2")
    answer = api(supplier).post(
        SIMULATOR,
        {"public_key": algorithms.public_key_pem(key).decode(), "algorithm": "p256"},
        format="json",
    )
    assert answer.status_code == 400
    answer = api(supplier).post(
        SIMULATOR, {"public_key": "garbage", "algorithm": "p256"}, format="json"
    )
    assert answer.status_code == 400


def test_registering_garbage_or_twice(api, supplier):
    client = api(supplier)
    answer = client.post(
        CERTIFICATES, {"pem": "-----BEGIN CERTIFICATE-----\nAAAA\n"}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "CERTIFICATE_MALFORMED"
    key = ca_simulator.generate_key("p256")
    pem = services.request_simulated_certificate(
        Actor.for_user(supplier), algorithms.public_key_pem(key), "p256"
    )
    assert client.post(CERTIFICATES, {"pem": pem.decode()}, format="json").status_code == 201
    again = client.post(CERTIFICATES, {"pem": pem.decode()}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CERTIFICATE_DUPLICATE"


def test_the_schema_documents_the_signing_operations(api, staff):
    schema = api(staff).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (CHALLENGES, CERTIFICATES, SIMULATOR, "/api/v1/signing/acts/{id}/"):
        assert path in paths, path
    assert "404" in paths[SIMULATOR]["post"]["responses"]


def test_a_challenge_can_not_be_used_inside_a_failed_act(supplier):
    """A refused act (its transaction rolled back) leaves the challenge unused."""
    key = enrol(supplier)
    sig = signed(supplier, key, "bid.withdraw", "bidding.bid", 5)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.require_signature(
            Actor.for_user(supplier), "bid.withdraw", ("bidding.bid", 5), signed=sig
        )
        raise RuntimeError("the act failed after the signature")
    with transaction.atomic():
        assert services.require_signature(
            Actor.for_user(supplier), "bid.withdraw", ("bidding.bid", 5), signed=sig
        )
