"""Party signatures in the evidence package: every signed act and electronic guarantee of the project
with the certificates, CA certificates and CRLs to check them offline — and each one that fails is
named, even when whoever changed it also re-signed the manifest."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from asn1crypto import x509
from django.core.management import call_command
from django.db import transaction

from accounts.actors import Actor
from audit.services import record
from deposits import guarantee_simulator
from deposits import services as deposit_services
from lib.canonical import sha256_hex
from signing import algorithms, builder
from signing.models import SignedAct
from signing.services import require_signature, signature_payload
from supervision import evidence
from tests.deposits.helpers import T0, tender
from tests.signing.support import enrol, signed
from trading import services as trading

pytestmark = pytest.mark.django_db

NOW = T0 + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def _signed_world(settings: Any, tmp_path: Any) -> Any:
    settings.SIGNING_PASSWORD_FALLBACK = []
    settings.CA_SIMULATOR = True
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(NOW, tick=False) as moving:
        yield moving


@pytest.fixture
def world(agent: Any, staff: Any, supplier: Any, other_supplier: Any) -> Any:
    """A tender whose lot two bidders signed an act on, one of them with an electronic guarantee."""
    project = tender(agent, staff)
    lot = project.lots.get()
    for user in (supplier, other_supplier):
        trading.register(Actor.for_user(user), lot)
        key = enrol(user)
        digest = sha256_hex(f"bid document of {user.username}".encode())
        actor = Actor.for_user(user)
        with transaction.atomic():
            signed_act = require_signature(
                actor,
                "bid.submit",
                lot,
                digest=digest,
                signed=signed(user, key, "bid.submit", "trading.lot", lot.pk, digest=digest),
            )
            # What an act's audit event records of its signature (the acts themselves are wired
            # to require_signature elsewhere; here only the evidence matters).
            record(actor, "tests.signed_on_lot", lot, {**signature_payload(signed_act)})
    deposit_services.submit_electronic_guarantee(
        Actor.for_user(supplier), lot, guarantee_simulator.issue(lot, supplier.organization)
    )
    return project


@pytest.fixture
def package(world: Any) -> bytes:
    return evidence.build(world)


def members(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def rewritten(data: bytes, changes: dict[str, bytes | None], *, resign: bool) -> bytes:
    """The package with members replaced (None: removed). With `resign`, the manifest lists the new
    hashes and is signed again with the platform's key: only the parties' signatures can tell."""
    files = members(data)
    for name, content in changes.items():
        if content is None:
            files.pop(name)
        else:
            files[name] = content
    if resign:
        manifest = json.loads(files[evidence.MANIFEST])
        manifest["files"] = {
            name: sha256_hex(content)
            for name, content in files.items()
            if name not in (evidence.MANIFEST, evidence.SIGNATURE)
        }
        files[evidence.MANIFEST] = evidence._json(manifest)
        files[evidence.SIGNATURE] = (
            evidence.signing_key().sign(files[evidence.MANIFEST]).signature.hex().encode()
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return out.getvalue()


def edited(data: bytes, name: str, change: Callable[[dict[str, Any]], None]) -> bytes:
    document = json.loads(members(data)[name])
    change(document)
    return evidence._json(document)


def first(data: bytes, folder: str) -> str:
    return sorted(n for n in members(data) if n.startswith(f"{folder}/"))[0]


def test_a_package_with_signed_acts_verifies_and_holds_what_checks_them(package):
    assert evidence.verify(package) == []
    files = members(package)
    signatures = [n for n in files if n.startswith("signatures/")]
    assert len(signatures) == 2 == SignedAct.objects.count()
    one = json.loads(files[signatures[0]])
    act = SignedAct.objects.get(pk=one["signed_act"])
    assert (one["statement"], one["signature"]) == (act.statement, act.signature)
    assert f"certificates/{act.certificate.sha256}.pem" in files
    assert f"cas/{act.certificate.issuer_sha256}.pem" in files
    assert f"crls/{one['crl']}.crl" in files
    assert len([n for n in files if n.startswith("guarantees/")]) == 1
    manifest = json.loads(files[evidence.MANIFEST])
    assert set(manifest["files"]) == set(files) - {evidence.MANIFEST, evidence.SIGNATURE}


def test_a_changed_signature_file_is_named(package):
    name = first(package, "signatures")

    def other_signature(record: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(record["signature"]))
        raw[-1] ^= 0x01
        record["signature"] = base64.b64encode(bytes(raw)).decode()

    changed = edited(package, name, other_signature)
    fingerprint = json.loads(changed)["certificate"]
    expected = f"{name}: signature does not verify (certificate {fingerprint[:12]}…)"
    # Changed in place: the manifest gives it away, and the signature itself fails.
    problems = evidence.verify(rewritten(package, {name: changed}, resign=False))
    assert f"{name}: SHA-256 differs from the manifest (file changed)" in problems
    assert expected in problems
    # Changed by whoever holds the platform's key and re-signed the manifest: the party's
    # signature alone proves it.
    assert evidence.verify(rewritten(package, {name: changed}, resign=True)) == [expected]


def test_a_changed_statement_is_named(package):
    name = first(package, "signatures")

    def other_digest(record: dict[str, Any]) -> None:
        statement = json.loads(record["statement"])
        statement["digest"] = "0" * 64
        record["statement"] = json.dumps(statement, ensure_ascii=False)
        record["statement_sha256"] = sha256_hex(record["statement"].encode())

    problems = evidence.verify(
        rewritten(package, {name: edited(package, name, other_digest)}, resign=True)
    )
    assert any(p.startswith(f"{name}: signature does not verify") for p in problems), problems
    assert any(
        p.startswith(f"{name}: statement differs from the one audit event") for p in problems
    ), problems


def test_a_statement_moved_to_another_act_is_named(package):
    name = first(package, "signatures")

    def other_target(record: dict[str, Any]) -> None:
        record["target_id"] += 1

    problems = evidence.verify(
        rewritten(package, {name: edited(package, name, other_target)}, resign=True)
    )
    assert any(p.startswith(f"{name}: statement says bid.submit on") for p in problems), problems


def test_a_removed_certificate_is_named(package):
    name = first(package, "signatures")
    fingerprint = json.loads(members(package)[name])["certificate"]
    problems = evidence.verify(
        rewritten(package, {f"certificates/{fingerprint}.pem": None}, resign=True)
    )
    assert f"{name}: certificate {fingerprint[:12]}… is not in the package" in problems


def test_a_certificate_of_a_ca_not_included_is_named(package):
    files = members(package)
    cas = [n for n in files if n.startswith("cas/")]
    problems = evidence.verify(rewritten(package, dict.fromkeys(cas), resign=True))
    for name in (n for n in files if n.startswith(("signatures/", "guarantees/"))):
        assert any(
            p.startswith(name) and "not issued by any CA certificate in the package" in p
            for p in problems
        ), (name, problems)


def test_a_look_alike_ca_with_another_key_does_not_vouch(package):
    """A CA certificate with the same name as the real one but another key: its certificates are
    not its own."""
    files = members(package)
    name = first(package, "signatures")
    record = json.loads(files[name])
    real = evidence.load_certificate(files[f"cas/{record['ca']}.pem"])
    subject = x509.Certificate.load(real.der)["tbs_certificate"]["subject"]
    key = algorithms.generate_private_key(real.algorithm)
    fake_der = builder.self_signed_ca(
        key, subject, NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=9)
    )
    fake = evidence.load_certificate(fake_der)
    changes: dict[str, bytes | None] = {
        f"cas/{record['ca']}.pem": None,
        f"cas/{fake.sha256}.pem": fake.pem().encode(),
    }
    problems = evidence.verify(rewritten(package, changes, resign=True))
    assert any(p.startswith(name) and "not issued by any CA" in p for p in problems), problems


def test_a_changed_guarantee_is_named(package):
    name = first(package, "guarantees")

    def raise_amount(record: dict[str, Any]) -> None:
        record["document"]["guarantee"]["amount"] = "9999999.00"

    problems = evidence.verify(
        rewritten(package, {name: edited(package, name, raise_amount)}, resign=True)
    )
    assert any(p.startswith(f"{name}: issuer's signature does not verify") for p in problems)


def test_an_audited_signature_missing_from_the_package_is_named(package):
    name = first(package, "signatures")
    problems = evidence.verify(rewritten(package, {name: None}, resign=True))
    signed_act = json.loads(members(package)[name])["signed_act"]
    assert any(f"signed act {signed_act} is not in the package" in p for p in problems), problems


def test_verify_evidence_names_the_changed_signature_file_and_exits_1(package, tmp_path, capsys):
    name = first(package, "signatures")

    def other_signature(record: dict[str, Any]) -> None:
        record["signature"] = base64.b64encode(b"\x00" * 64).decode()

    path = tmp_path / "evidence.zip"
    path.write_bytes(
        rewritten(package, {name: edited(package, name, other_signature)}, resign=True)
    )
    with pytest.raises(SystemExit) as failed:
        call_command("verify_evidence", str(path))
    assert failed.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"FAILED: {name}: signature does not verify")
    intact = tmp_path / "intact.zip"
    intact.write_bytes(package)
    call_command("verify_evidence", str(intact))
    assert "evidence package OK" in capsys.readouterr().out


def test_a_guarantee_swapped_for_another_validly_signed_one_is_named(package, world, supplier):
    """A guarantee re-issued (validly signed) for a smaller amount and put in the package in place of
    the one filed: the audit event of its verification recorded the signed content."""
    name = first(package, "guarantees")
    lot = world.lots.get()
    other = json.loads(
        guarantee_simulator.issue(lot, supplier.organization, amount=Decimal("1.00"))
    )

    def swap(record: dict[str, Any]) -> None:
        record["document"] = other
        record["certificate"] = evidence.load_certificate(other["certificate"]).sha256

    changed = edited(package, name, swap)
    certificate = json.loads(changed)["certificate"]
    extra = members(evidence.build(world))  # the new issuer certificate, in a package of today
    changes: dict[str, bytes | None] = {
        name: changed,
        f"certificates/{certificate}.pem": evidence.load_certificate(other["certificate"])
        .pem()
        .encode(),
    }
    changes |= {n: c for n, c in extra.items() if n.startswith("crls/")}
    problems = evidence.verify(rewritten(package, changes, resign=True))
    assert any(
        p.startswith(f"{name}: guarantee differs from the one audit event") for p in problems
    ), problems


def test_signature_files_swapped_between_acts_are_named(package):
    one, two = sorted(n for n in members(package) if n.startswith("signatures/"))
    files = members(package)
    problems = evidence.verify(rewritten(package, {one: files[two], two: files[one]}, resign=True))
    assert any(p.startswith(f"{one}: holds signature") for p in problems), problems
    assert any(p.startswith(f"{two}: holds signature") for p in problems), problems
