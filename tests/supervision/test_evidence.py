"""The evidence package: built from a project that went through a live auction, checked offline, and
refused after any change."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
import time_machine
from django.core.management import call_command
from nacl.signing import SigningKey

from bidding.auction import services
from bidding.models import Auction
from lib.canonical import sha256_hex
from supervision import evidence
from tests.bidding.auction_world import START, make_world

pytestmark = pytest.mark.django_db


def rewrite(data: bytes, name: str, change) -> bytes:
    """A copy of the package with one member changed (the rest byte for byte)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.namelist():
            content = source.read(member)
            target.writestr(member, change(content) if member == name else content)
    return out.getvalue()


def test_an_intact_package_verifies_and_holds_the_auction_and_its_audit_trail(package):
    assert evidence.verify(package) == []
    archive = zipfile.ZipFile(io.BytesIO(package))
    auctions = json.loads(archive.read("auctions.json"))
    audit = json.loads(archive.read("audit.json"))
    assert [e["type"] for e in auctions[0]["events"]].count("bid") == 3
    actions = {e["action"] for e in audit}
    assert {"bidding.auction.bid_accepted", "bidding.auction.closed"} <= actions
    assert auctions[0]["closing_audit_hash"] in {e["hash"] for e in audit}


def test_any_change_is_found(package):
    def edit_bid(content: bytes) -> bytes:
        return content.replace(b"997000.00", b"996000.00")

    changed = rewrite(package, "auctions.json", edit_bid)
    assert any("auctions.json" in p for p in evidence.verify(changed))


def test_a_change_with_a_recomputed_manifest_fails_the_signature(package):
    def edit_payload(content: bytes) -> bytes:
        return content.replace(b"997000.00", b"996000.00")

    changed = rewrite(package, "audit.json", edit_payload)
    new_audit = zipfile.ZipFile(io.BytesIO(changed)).read("audit.json")

    def fix_manifest(content: bytes) -> bytes:
        manifest = json.loads(content)
        manifest["files"]["audit.json"] = sha256_hex(new_audit)
        return evidence._json(manifest)

    forged = rewrite(changed, "manifest.json", fix_manifest)
    problems = evidence.verify(forged)
    assert any("signature" in p for p in problems)
    # Re-signing with another key does not help: the verifier uses the platform's key.
    other = SigningKey.generate()
    manifest = zipfile.ZipFile(io.BytesIO(forged)).read("manifest.json")
    resigned = rewrite(
        forged, "manifest.sig", lambda _: other.sign(manifest).signature.hex().encode()
    )
    assert any("signature" in p for p in evidence.verify(resigned))
    # The audit events themselves give the edit away even to a verifier with the forger's key.
    problems = evidence.verify(resigned, public_key=other.verify_key.encode().hex())
    assert any("does not match its hash" in p for p in problems)


def test_an_added_file_is_found(package):
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.namelist():
            target.writestr(member, source.read(member))
        target.writestr("extra.json", b"{}")
    assert any("extra.json" in p for p in evidence.verify(out.getvalue()))


def test_the_commands_export_and_verify_offline(package, tmp_path, agent, staff):
    path = tmp_path / "evidence.zip"
    path.write_bytes(package)
    call_command("verify_evidence", str(path))
    broken = tmp_path / "broken.zip"
    broken.write_bytes(rewrite(package, "bids.json", lambda c: c + b" "))
    with pytest.raises(SystemExit) as failed:
        call_command("verify_evidence", str(broken))
    assert failed.value.code == 1


def test_a_tendered_project_carries_its_bids_opening_draw_and_announcements(
    staff, supervisor, agent, supplier, other_supplier, expert, settings, tmp_path
):
    from tests.bidding.world import build, people

    settings.MEDIA_ROOT = tmp_path / "media"
    world = build(people(staff, supervisor, agent, supplier, other_supplier, expert), "awarded")
    package = evidence.build(world.project)
    assert evidence.verify(package) == []
    archive = zipfile.ZipFile(io.BytesIO(package))
    bids = json.loads(archive.read("bids.json"))
    assert bids and all(len(b["sealed_price_sha256"]) == 64 for b in bids)
    assert json.loads(archive.read("openings.json"))[0]["record_sha256"]
    draws = json.loads(archive.read("draws.json"))
    assert draws and draws[0]["seed"]  # revealed after the draw, recomputed by verify
    kinds = {v["kind"] for v in json.loads(archive.read("announcements.json"))}
    assert {"tender", "candidates", "result"} <= kinds

    def other_expert(content: bytes) -> bytes:
        document = json.loads(content)
        document[0]["drawn"][0]["expert"] += 1000
        return evidence._json(document)

    tampered = rewrite(package, "draws.json", other_expert)
    assert any("draws.json" in p for p in evidence.verify(tampered))

    # Even re-hashed and re-signed by a forger, the draw no longer recomputes.
    forger = SigningKey.generate()
    new_draws = zipfile.ZipFile(io.BytesIO(tampered)).read("draws.json")

    def rehash(content: bytes) -> bytes:
        manifest = json.loads(content)
        manifest["files"]["draws.json"] = sha256_hex(new_draws)
        return evidence._json(manifest)

    forged = rewrite(tampered, "manifest.json", rehash)
    manifest = zipfile.ZipFile(io.BytesIO(forged)).read("manifest.json")
    forged = rewrite(
        forged, "manifest.sig", lambda _: forger.sign(manifest).signature.hex().encode()
    )
    problems = evidence.verify(forged, public_key=forger.verify_key.encode().hex())
    assert problems == [f"draw {draws[0]['draw']}: recomputing the draw gives other experts"]


def test_audit_search_by_project_and_organization(agent, staff, supervisor, api):
    world = make_world(agent, staff)
    bidder = world.bidders[0]
    with time_machine.travel(START + dt.timedelta(seconds=5), tick=False):
        services.place_bid(
            world.actor(bidder), Auction.objects.get(pk=world.auction.pk), "999000.00", "k"
        )
    other = make_world(agent, staff)
    client = api(supervisor)
    rows = client.get("/api/v1/audit/events/", {"project": world.project.number}).json()
    assert rows and all(
        r["action"] != "trading.project.created" or r["object_id"] == str(world.project.pk)
        for r in rows
    )
    assert str(other.project.pk) not in {
        r["object_id"] for r in rows if r["object_type"] == "trading.project"
    }
    mine = client.get("/api/v1/audit/events/", {"organization": bidder.organization_id}).json()
    assert {r["action"] for r in mine} >= {
        "trading.registration.created",
        "bidding.auction.bid_accepted",
    }
    assert all(r["organization"] == bidder.organization_id for r in mine)
    assert client.get("/api/v1/audit/events/", {"project": "NOPE"}).status_code == 400
