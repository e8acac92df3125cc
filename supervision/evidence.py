"""The evidence package: one project's record as a ZIP that anyone can check offline.

Layout (every file canonical JSON, UTF-8, as the audit chain hashes it):

    manifest.json          {"format", "project", "exported_at", "chain_head", "files": {path: sha256},
                            "public_key"}
    manifest.sig           Ed25519 signature (hex) of manifest.json by the platform's evidence key
    project.json           the project and its lots
    announcements.json     every announcement version: content, sha256, previous_sha256
    bids.json              sealed bids: SHA-256 of each ciphertext and bid file, status, opened price
    openings.json          opening records with their SHA-256
    draws.json             expert draws: request, pool, hashes, the seed once revealed, the picks
    auctions.json          every auction phase: rules, results, closing audit hash, full event timeline
    land.json              land listings: rules, outcome, lottery record
    ledger.json            every journal entry touching the project's deposit accounts (integer fen)
    alerts.json            supervisor alerts about the project and how they were handled
    audit.json             the project's audit events, each with every hashed field and its hash
    signatures/NNNNNN.json every signed act on the project's objects (`signing.models.SignedAct`, by
                           id): act, target, signer, the statement text exactly as signed, its SHA-256,
                           the signature (base64), the certificate's fingerprint, the CA's, and the
                           CRL that was current when the platform verified it
    guarantees/NNNNNN.json every electronic guarantee (电子保函) on its lots: the issuer's document as
                           filed, its certificate's and CA's fingerprints, the CRL current at receipt
    certificates/<sha256>.pem  every party's and issuer's certificate those name, by fingerprint
    cas/<sha256>.pem       the CA certificates that issued them
    crls/<sha256>.crl      the CRLs (DER) named above: each CA's newest at each signature's time

The files are read in one snapshot of the database (`audit.services.chain_snapshot`): `chain_head`
covers exactly the events in audit.json.

`verify` (and `manage.py verify_evidence <zip>`) checks, without the database: the signature against
the platform's public key (`--public-key`, else this installation's; never the one inside the package),
every file against the manifest and no file added, every audit event's hash, the links between
consecutive events and none beyond `chain_head`, every announcement version's hash and the chain of
versions, every revealed draw and lottery recomputed, and every auction timeline gap-free with its
closing hash among the audit events — and every party signature on its own, whatever key signed the
manifest (`_check_parties`): each statement against its SHA-256 and against the act and target
recorded with it, each signature against its certificate (`signing.pki.verify_signature`), each
certificate's chain to a CA certificate in the package (`signing.pki.certificate_issued_by`,
`ca_fit_at`), its validity and key usage at the signature's time, the CRL current then
(`signing.pki.read_crl`: signed by that CA, not listing the certificate), and every audit event that
references a signed act against that act's statement and certificate. Each failure is one line naming
the file, e.g. "signatures/000123.json: signature does not verify (certificate 3f2a…)".

Damage is a finding, never a crash: the archive is read within bounds (`MAX_MEMBERS`,
`MAX_MEMBER_BYTES`, `MAX_PACKAGE_BYTES`, whatever sizes it declares), names must be plain file names
and unique, and every way a damaged ZIP or document fails to read is one line saying what. A bit
flipped where the ZIP holds no evidence (a timestamp, an attribute) changes no file and passes.

The development key's seed is public (it is in the settings), so its signature proves nothing: a
package verified against it fails unless `allow_dev_key` (`--allow-dev-key`, for a package from a
development installation, and then with a warning). Production cannot sign with it: the settings
refuse to load with DEBUG off while EVIDENCE_SIGNING_KEY is the development value.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
import json
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Model, Q
from django.utils import timezone
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from audit.models import Alert, AuditEvent, ChainHead
from audit.services import (
    VERIFY_FIELDS,
    chain_snapshot,
    row_hash,
)
from bidding import models as bidding_models
from bidding.land import lottery
from bidding.models import Auction, Bid, LandListing, Opening
from deposits import models as deposit_models
from deposits.models import JournalEntry
from experts import models as expert_models
from experts.draw import document_hash, seed_hash, select
from experts.models import DrawRequest
from lib.canonical import canonical_bytes, canonical_sha256, canonical_value, sha256_hex
from lib.errors import present
from signing.models import Certificate, RevocationList, SignedAct, SimulatedAuthority
from signing.pem import certificate_pem
from signing.pki import (
    SIGNING_KEY_USAGES,
    CertificateRefused,
    CertInfo,
    CrlRefused,
    ca_fit_at,
    certificate_issued_by,
    load_certificate,
    read_crl,
    simulated_ca,
    trusted_cas,
    verify_signature,
)
from trading import models as trading_models
from trading.models import AnnouncementVersion, Project
from trading.services import project_content

FORMAT = "bidhall-evidence/1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"


def _json(document: Any) -> bytes:
    return canonical_bytes(canonical_value(document))


def signing_key() -> SigningKey:
    return SigningKey(bytes.fromhex(settings.EVIDENCE_SIGNING_KEY))


def public_key_hex() -> str:
    return signing_key().verify_key.encode().hex()


def dev_public_key_hex() -> str:
    """The public key of the development signing key. Its seed is in the source for anyone to use, so a
    signature by it proves nothing (settings refuse it with DEBUG off)."""
    return SigningKey(bytes.fromhex(settings.EVIDENCE_DEV_SIGNING_KEY)).verify_key.encode().hex()


def signs_with_dev_key() -> bool:
    return public_key_hex() == dev_public_key_hex()


# --- What belongs to a project -------------------------------------------------------------------------


def _project_objects(project: Project) -> dict[str, list[Model]]:
    """Every row the project's audit events may name, by model label (the events' `object_type`)."""
    p = project
    querysets = [
        trading_models.Project.objects.filter(pk=p.pk),
        trading_models.Lot.objects.filter(project=p),
        trading_models.Invitee.objects.filter(project=p),
        trading_models.ProjectDocument.objects.filter(project=p),
        trading_models.Announcement.objects.filter(project=p),
        trading_models.AnnouncementVersion.objects.filter(announcement__project=p),
        trading_models.Registration.objects.filter(project=p),
        trading_models.Question.objects.filter(project=p),
        trading_models.Objection.objects.filter(project=p),
        bidding_models.ProjectKey.objects.filter(project=p),
        bidding_models.Bid.objects.filter(lot__project=p),
        bidding_models.BidFile.objects.filter(bid__lot__project=p),
        bidding_models.Opening.objects.filter(lot__project=p),
        bidding_models.OpeningResponse.objects.filter(opening__lot__project=p),
        bidding_models.Evaluation.objects.filter(lot__project=p),
        bidding_models.EvaluationMember.objects.filter(evaluation__lot__project=p),
        bidding_models.Score.objects.filter(member__evaluation__lot__project=p),
        bidding_models.Publicity.objects.filter(lot__project=p),
        bidding_models.PublicityObjection.objects.filter(publicity__lot__project=p),
        bidding_models.Auction.objects.filter(lot__project=p),
        bidding_models.AuctionParticipant.objects.filter(auction__lot__project=p),
        bidding_models.LandListing.objects.filter(lot__project=p),
        bidding_models.LandResponse.objects.filter(listing__lot__project=p),
        bidding_models.LandSealedOffer.objects.filter(listing__lot__project=p),
        deposit_models.Account.objects.filter(lot__project=p),
        deposit_models.Guarantee.objects.filter(lot__project=p),
        deposit_models.Deposit.objects.filter(lot__project=p),
        deposit_models.Refund.objects.filter(deposit__lot__project=p),
        deposit_models.Forfeiture.objects.filter(deposit__lot__project=p),
        expert_models.DrawRequest.objects.filter(project=p),
        expert_models.DrawnExpert.objects.filter(draw__project=p),
        expert_models.Rating.objects.filter(project=p),
        Alert.objects.filter(project_id=p.pk),
    ]
    return {qs.model._meta.label_lower: list(qs) for qs in querysets}


def project_filter(project: Project) -> Q:
    """The audit events about `project`: those naming the project or any row that belongs to it."""
    condition = Q(pk__in=[])
    for label, rows in _project_objects(project).items():
        if rows:
            condition |= Q(object_type=label, object_id__in=[str(r.pk) for r in rows])
    return condition


def project_events(project: Project, *, up_to_seq: int | None = None) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(project_filter(project))
    if up_to_seq is not None:
        events = events.filter(seq__lte=up_to_seq)
    return [
        {**e, "at": e["at"].astimezone(dt.UTC).isoformat(timespec="microseconds")}
        for e in events.order_by("seq").values(*VERIFY_FIELDS)
    ]


# --- Building ------------------------------------------------------------------------------------------


def _announcements(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "announcement": v.announcement_id,
            "kind": v.announcement.kind,
            "number": v.number,
            "sha256": v.sha256,
            "content": v.content,
        }
        for v in AnnouncementVersion.objects.filter(announcement__project=project)
        .select_related("announcement")
        .order_by("announcement_id", "number")
    ]


def _bids(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "bid": bid.pk,
            "lot": bid.lot_id,
            "organization": bid.organization_id,
            "status": bid.status,
            "version": bid.version,
            "submitted_at": bid.submitted_at,
            "sealed_price_sha256": sha256_hex(bytes(bid.sealed_price)),
            "files": [
                {
                    "name": present(f.file.name, "a stored bid file's name").rsplit("/", 1)[-1],
                    "sha256": f.sha256,
                    "size": f.size,
                }
                for f in bid.files.order_by("pk")
            ],
            "price": bid.price,
            "failure": bid.failure,
        }
        for bid in Bid.objects.filter(lot__project=project).order_by("pk")
    ]


def _openings(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "lot": o.lot_id,
            "stage": o.stage,
            "started_at": o.started_at,
            "finished_at": o.finished_at,
            "failure_reason": o.failure_reason,
            "record": o.record,
            "record_sha256": o.record_sha256,
        }
        for o in Opening.objects.filter(lot__project=project).order_by("pk")
    ]


def _draws(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "draw": d.pk,
            "status": d.status,
            "request": d.request_document(),
            "request_hash": d.request_hash,
            "pool": d.pool,
            "pool_hash": d.pool_hash,
            "seed_hash": d.seed_hash,
            "seed": d.seed if d.seed_revealed else None,
            "drawn": [
                {"expert": x.expert_id, "quota": x.quota, "position": x.position, "role": x.role}
                for x in d.drawn.order_by("quota", "position")
            ],
        }
        for d in DrawRequest.objects.filter(project=project).order_by("pk")
    ]


def _auctions(project: Project) -> list[dict[str, Any]]:
    out = []
    for a in Auction.objects.filter(lot__project=project).order_by("pk"):
        out.append(
            {
                "auction": a.pk,
                "lot": a.lot_id,
                "phase": a.phase,
                "format": a.format,
                "direction": a.direction,
                "unit": a.unit,
                "start_price": a.start_price,
                "step": a.step,
                "max_change": a.max_change,
                "max_price": a.max_price,
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
                "status": a.status,
                "results": a.results,
                "closing_audit_seq": a.closing_audit_seq,
                "closing_audit_hash": a.closing_audit_hash,
                "participants": [
                    {"alias": p.alias, "organization": p.organization_id}
                    for p in a.participants.exclude(alias="").order_by("alias")
                ],
                "events": list(a.events.order_by("seq").values_list("data", flat=True)),
            }
        )
    return out


def _land(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "listing": x.pk,
            "parcel_number": x.parcel_number,
            "start_price": x.start_price,
            "increment": x.increment,
            "max_price": x.max_price,
            "cap_mode": x.cap_mode,
            "listing_starts_at": x.listing_starts_at,
            "listing_ends_at": x.listing_ends_at,
            "reserve_sha256": x.reserve_sha256,
            "reserve": x.reserve if x.decided else None,
            "stage": x.stage,
            "winner": x.winner_id,
            "final_price": x.final_price,
            "housing_area": x.housing_area,
            "lottery": (
                {k: v for k, v in x.lottery.items() if k != "sealed_seed"} if x.lottery else None
            ),
        }
        for x in LandListing.objects.filter(lot__project=project).order_by("pk")
    ]


def _ledger(project: Project) -> list[dict[str, Any]]:
    entries = (
        JournalEntry.objects.filter(lines__account__lot__project=project)
        .distinct()
        .order_by("posted_at", "pk")
        .prefetch_related("lines__account")
    )
    return [
        {
            "entry": e.pk,
            "kind": e.kind,
            "reference": e.reference,
            "memo": e.memo,
            "posted_at": e.posted_at,
            "lines": [
                {
                    "account": line.account.number,
                    "amount_fen": line.amount_fen,
                    "currency": line.currency,
                }
                for line in e.lines.order_by("pk")
            ],
        }
        for e in entries
    ]


def _alerts(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "alert": a.pk,
            "kind": a.kind,
            "summary": a.summary,
            "details": a.details,
            "raised_at": a.raised_at,
            "handled_at": a.handled_at,
            "handled_by": a.handled_by_id,
            "note": a.note,
        }
        for a in Alert.objects.filter(project_id=project.pk).order_by("raised_at", "pk")
    ]


# --- Party signatures: signed acts, electronic guarantees, their certificates, CAs and CRLs ---------

# The folders a package may hold (every other member is a plain file name at the top).
FOLDERS = ("signatures", "guarantees", "certificates", "cas", "crls")


def _signed_acts(project: Project) -> list[SignedAct]:
    """Every signed act whose target is one of the project's rows."""
    condition = Q(pk__in=[])
    for label, rows in _project_objects(project).items():
        if rows:
            condition |= Q(target_type=label, target_id__in=[r.pk for r in rows])
    return list(SignedAct.objects.filter(condition).select_related("certificate").order_by("pk"))


def _ca_certificates(fingerprints: set[str]) -> dict[str, bytes]:
    """The CA certificates (DER) with these fingerprints, among the trusted ones and the CA
    simulator's roots (kept whether or not the simulator is on now: they issued what was signed)."""
    known = [ca.cert for ca in trusted_cas()] + [
        simulated_ca(authority).cert for authority in SimulatedAuthority.objects.order_by("pk")
    ]
    return {cert.sha256: cert.der for cert in known if cert.sha256 in fingerprints}


def _crl_at(ca_sha256: str, at: dt.datetime) -> RevocationList | None:
    """The CA's newest CRL at `at`: the one a check at that moment consulted."""
    return (
        RevocationList.objects.filter(ca_sha256=ca_sha256, this_update__lte=at)
        .order_by("-this_update", "-id")
        .first()
    )


def _party_files(project: Project) -> dict[str, bytes]:
    acts = _signed_acts(project)
    guarantees = list(
        deposit_models.Guarantee.objects.filter(
            lot__project=project, electronic=True, certificate__isnull=False
        )
        .select_related("certificate")
        .order_by("pk")
    )
    certificates: dict[str, Certificate] = {act.certificate.sha256: act.certificate for act in acts}
    for guarantee in guarantees:
        certificate = present(guarantee.certificate, "an electronic guarantee's certificate")
        certificates[certificate.sha256] = certificate
    crls: dict[str, bytes] = {}

    def crl_of(certificate: Certificate, at: dt.datetime) -> str | None:
        crl = _crl_at(certificate.issuer_sha256, at)
        if crl is None:
            return None
        crls[crl.sha256] = bytes(crl.der)
        return crl.sha256

    files: dict[str, bytes] = {}
    for act in acts:
        files[f"signatures/{act.pk:06d}.json"] = _json(
            {
                "signed_act": act.pk,
                "act": act.act,
                "target_type": act.target_type,
                "target_id": act.target_id,
                "user": act.user_id,
                "organization": act.organization_id,
                "certificate": act.certificate.sha256,
                "ca": act.certificate.issuer_sha256,
                "statement": act.statement,
                "statement_sha256": act.statement_sha256,
                "signature": act.signature,
                "asked_at": act.asked_at,
                "verified_at": act.verified_at,
                "crl": crl_of(act.certificate, act.verified_at),
            }
        )
    for guarantee in guarantees:
        certificate = present(guarantee.certificate, "an electronic guarantee's certificate")
        with guarantee.file.open("rb") as stored:
            document = json.loads(stored.read())
        verified_at = present(guarantee.verified_at, "a verified guarantee's time")
        files[f"guarantees/{guarantee.pk:06d}.json"] = _json(
            {
                "guarantee": guarantee.pk,
                "lot": guarantee.lot_id,
                "organization": guarantee.organization_id,
                "status": guarantee.status,
                "file_sha256": guarantee.file_sha256,
                "certificate": certificate.sha256,
                "ca": certificate.issuer_sha256,
                "verified_at": verified_at,
                "crl": crl_of(certificate, verified_at),
                "document": document,
            }
        )
    for sha, certificate in sorted(certificates.items()):
        files[f"certificates/{sha}.pem"] = certificate_pem(bytes(certificate.der)).encode()
    authorities = _ca_certificates({c.issuer_sha256 for c in certificates.values()})
    for sha, der in sorted(authorities.items()):
        files[f"cas/{sha}.pem"] = certificate_pem(der).encode()
    for sha, der in sorted(crls.items()):
        files[f"crls/{sha}.crl"] = der
    return files


def build(project: Project) -> bytes:
    """The package for `project`, as ZIP bytes. Reads committed rows only; call outside any lock."""
    # One snapshot: the chain head the manifest names covers the events in audit.json, and every
    # file shows the project as of the same moment.
    with chain_snapshot():
        head = ChainHead.objects.filter(pk=1).values("seq", "hash").first()
        documents = {
            "project.json": project_content(project),
            "announcements.json": _announcements(project),
            "bids.json": _bids(project),
            "openings.json": _openings(project),
            "draws.json": _draws(project),
            "auctions.json": _auctions(project),
            "land.json": _land(project),
            "ledger.json": _ledger(project),
            "alerts.json": _alerts(project),
            # Bounded by the head too, for a caller's transaction that is no snapshot.
            "audit.json": project_events(project, up_to_seq=head["seq"] if head else None),
        }
        parties = _party_files(project)
    files = {name: _json(document) for name, document in documents.items()} | parties
    manifest = _json(
        {
            "format": FORMAT,
            "project": {"id": project.pk, "number": project.number, "title": project.title},
            "exported_at": timezone.now(),
            "chain_head": head,
            "retention_years": settings.AUDIT_RETENTION_YEARS,
            "public_key": public_key_hex(),
            "files": {name: sha256_hex(data) for name, data in files.items()},
        }
    )
    signature = signing_key().sign(manifest).signature.hex().encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, manifest)
        archive.writestr(SIGNATURE, signature)
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- Verifying (offline: no database) ----------------------------------------------------------------

# What a package may hold. Reading stops at these bounds, whatever the archive declares: a hostile
# archive (a member that inflates to gigabytes) costs at most this much memory.
# Twelve documents plus one file per signed act, guarantee, certificate, CA and CRL.
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_PACKAGE_BYTES = 1024 * 1024 * 1024
# Member names are plain file names, at the top or in one of FOLDERS: no other folder, no absolute
# path and no "..".
_PLAIN_NAME = re.compile(rf"(?:(?:{'|'.join(FOLDERS)})/)?[A-Za-z0-9_-][A-Za-z0-9._-]{{0,99}}")

# What reading a damaged archive raises. zipfile: BadZipFile (bad structure, CRC), NotImplementedError
# (an unknown compression method or version), RuntimeError (a member flagged encrypted), EOFError
# (a truncated stream); the decompressors: zlib.error, OSError (bz2), lzma.LZMAError; names and sizes:
# UnicodeDecodeError, ValueError, struct.error.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    OSError,
    ValueError,
    struct.error,
)
# What reading a document that is not the JSON expected raises (checked only after the signature and
# the manifest's hashes: reached by a package signed with another key, given with --public-key).
_DOCUMENT_ERRORS = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


class PackageUnreadable(Exception):
    """The package cannot be read at all; the message is one line saying why."""


def _one_line(text: object, limit: int = 200) -> str:
    """Untrusted text (a member name, a library's message) made safe to print on one line."""
    flat = "".join(c if c.isprintable() else "?" for c in str(text))
    return flat if len(flat) <= limit else flat[:limit] + "…"


def read_package(data: bytes) -> dict[str, bytes]:
    """Every member of the package by name, read within the bounds above. Raises PackageUnreadable."""
    if len(data) > MAX_PACKAGE_BYTES:
        raise PackageUnreadable(f"the package is larger than {MAX_PACKAGE_BYTES} bytes")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _ARCHIVE_ERRORS as exc:
        raise PackageUnreadable(f"not a readable ZIP archive: {_one_line(exc)}") from None
    if len(members) > MAX_MEMBERS:
        raise PackageUnreadable(
            f"{len(members)} files in the archive, at most {MAX_MEMBERS} expected"
        )
    contents: dict[str, bytes] = {}
    total = 0
    for info in members:
        name = info.filename
        shown = _one_line(repr(name))
        if not _PLAIN_NAME.fullmatch(name):
            raise PackageUnreadable(
                f"{shown}: not a plain file name (a folder of its own, '..' or odd characters)"
            )
        if name in contents:
            # Readers would disagree on which copy is the package's: one is hidden from the verifier.
            raise PackageUnreadable(f"{shown}: appears twice in the archive")
        if info.file_size > MAX_MEMBER_BYTES:
            raise PackageUnreadable(
                f"{shown}: declares {info.file_size} bytes, at most {MAX_MEMBER_BYTES}"
            )
        try:
            with archive.open(info) as member:
                content = member.read(MAX_MEMBER_BYTES + 1)
        except _ARCHIVE_ERRORS as exc:
            raise PackageUnreadable(f"{shown}: cannot be read: {_one_line(exc)}") from None
        if len(content) > MAX_MEMBER_BYTES:
            raise PackageUnreadable(f"{shown}: inflates to more than {MAX_MEMBER_BYTES} bytes")
        total += len(content)
        if total > MAX_PACKAGE_BYTES:
            raise PackageUnreadable(f"the files inflate to more than {MAX_PACKAGE_BYTES} bytes")
        contents[name] = content
    return contents


def parse_public_key(value: str) -> VerifyKey:
    """A public key given as 64 hexadecimal characters, or ValueError."""
    try:
        raw = bytes.fromhex(value.strip())
    except ValueError:
        raise ValueError(f"{_one_line(value)!r} is not hexadecimal") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes (64 hex characters), not {len(raw)}")
    return VerifyKey(raw)


_SIGNATURE_TEXT = re.compile(rb"[0-9a-f]{128}")


def _signature_problem(manifest_bytes: bytes, signature: bytes, key: VerifyKey) -> str | None:
    # Exactly as written (lowercase hex, nothing around it): any change to the file is a finding,
    # even one that would decode to the same bytes.
    if not _SIGNATURE_TEXT.fullmatch(signature):
        return "manifest.sig: not a signature (128 lowercase hexadecimal characters)"
    try:
        key.verify(manifest_bytes, bytes.fromhex(signature.decode("ascii")))
    except BadSignatureError:
        return "the manifest's signature does not verify with the platform's public key"
    return None


def _load(name: str, content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise PackageUnreadable(f"{name}: not JSON: {_one_line(exc)}") from None


def verify(data: bytes, *, public_key: str | None = None, allow_dev_key: bool = False) -> list[str]:
    """Every problem found in a package (empty: it is intact and consistent), each one line.

    `public_key` (hex) pins the key the manifest must be signed with; by default this installation's.
    A package verified with the development key (public: it is in the source) proves nothing, so that
    is a problem unless `allow_dev_key` (a package from a development installation)."""
    key_hex = (public_key or public_key_hex()).strip().lower()
    try:
        key = parse_public_key(key_hex)
    except ValueError as exc:
        return [f"public key: {exc}"]
    try:
        return _verify_contents(read_package(data), key, key_hex, allow_dev_key)
    except PackageUnreadable as exc:
        return [str(exc)]


def _verify_contents(
    contents: dict[str, bytes], key: VerifyKey, key_hex: str, allow_dev_key: bool
) -> list[str]:
    if MANIFEST not in contents or SIGNATURE not in contents:
        return ["manifest.json or manifest.sig is missing"]
    problems: list[str] = []
    if key_hex == dev_public_key_hex() and not allow_dev_key:
        problems.append(
            "verified against the development key, which is public: anyone can sign with it "
            "(pin the platform's key with --public-key; --allow-dev-key for a development package)"
        )
    bad_signature = _signature_problem(contents[MANIFEST], contents[SIGNATURE], key)
    manifest = _load(MANIFEST, contents[MANIFEST])
    listed = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(listed, dict) or not all(
        isinstance(name, str) and isinstance(digest, str) for name, digest in listed.items()
    ):
        return [*problems, bad_signature or "manifest.json: no list of files and their SHA-256"]
    changed: list[str] = []
    if bad_signature:
        claimed = manifest.get("public_key")
        if claimed == dev_public_key_hex() and key_hex != claimed:
            bad_signature += " (the package says it was signed with the development key)"
        changed.append(bad_signature)
    for name, digest in listed.items():
        if name not in contents:
            changed.append(f"{_one_line(repr(name))}: listed in the manifest but missing")
        elif sha256_hex(contents[name]) != digest:
            changed.append(f"{name}: SHA-256 differs from the manifest (file changed)")
    for name in sorted(set(contents) - set(listed) - {MANIFEST, SIGNATURE}):
        changed.append(f"{name}: not listed in the manifest (file added)")
    if changed:
        # The parties' signatures prove themselves whatever happened to the manifest: each one that
        # fails is named too (a changed signature file is both a changed file and a bad signature).
        return problems + changed + _checked_parties(contents, None)
    docs = {name: _load(name, contents[name]) for name in listed if "/" not in name}
    audit = docs.get("audit.json", [])
    checks = [
        ("audit.json", lambda: _check_audit(audit, manifest.get("chain_head"))),
        ("announcements.json", lambda: _check_announcements(docs.get("announcements.json", []))),
        ("draws.json", lambda: _check_draws(docs.get("draws.json", []))),
        ("auctions.json", lambda: _check_auctions(docs.get("auctions.json", []), audit)),
        ("land.json", lambda: _check_land(docs.get("land.json", []))),
    ]
    for name, check in checks:
        try:
            problems += check()
        except _DOCUMENT_ERRORS as exc:
            problems.append(f"{name}: not the expected structure: {_one_line(repr(exc))}")
    return problems + _checked_parties(contents, audit)


def _check_audit(events: list[dict[str, Any]], chain_head: dict[str, Any] | None) -> list[str]:
    """Each event's hash, the links between consecutive events, and none beyond the chain head the
    package was exported at (events and head are read in one snapshot)."""
    problems, previous = [], None
    for event in events:
        if row_hash(event) != event["hash"]:
            problems.append(f"audit event {event['seq']}: content does not match its hash")
        if previous is not None:
            if event["seq"] <= previous["seq"]:
                problems.append(f"audit event {event['seq']}: out of order")
            elif event["seq"] == previous["seq"] + 1 and event["prev_hash"] != previous["hash"]:
                problems.append(
                    f"audit event {event['seq']}: does not link to event {previous['seq']}"
                )
        if chain_head is not None:
            if event["seq"] > chain_head["seq"]:
                problems.append(f"audit event {event['seq']}: beyond the chain head at export")
            elif event["seq"] == chain_head["seq"] and event["hash"] != chain_head["hash"]:
                problems.append(
                    f"audit event {event['seq']}: differs from the chain head at export"
                )
        previous = event
    return problems


def _check_announcements(versions: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    last: dict[int, str] = {}
    for v in versions:
        if canonical_sha256(v["content"]) != v["sha256"]:
            problems.append(f"announcement {v['announcement']} v{v['number']}: content changed")
        if v["content"].get("previous_sha256") != last.get(v["announcement"]):
            problems.append(
                f"announcement {v['announcement']} v{v['number']}: version chain broken"
            )
        last[v["announcement"]] = v["sha256"]
    return problems


def _check_draws(draws: list[dict[str, Any]]) -> list[str]:
    problems = []
    for d in draws:
        if document_hash(d["request"]) != d["request_hash"]:
            problems.append(f"draw {d['draw']}: request does not match its hash")
        if document_hash(d["pool"]) != d["pool_hash"]:
            problems.append(f"draw {d['draw']}: pool does not match its hash")
        if d["seed"] is None:
            continue
        if seed_hash(d["seed"]) != d["seed_hash"]:
            problems.append(f"draw {d['draw']}: revealed seed does not match the committed hash")
        picks = [
            {"expert": p.expert_id, "quota": p.quota, "position": p.position, "role": p.role}
            for p in select(d["seed"], d["pool"], d["request"])
        ]
        if sorted(picks, key=lambda p: (p["quota"], p["position"])) != d["drawn"]:
            problems.append(f"draw {d['draw']}: recomputing the draw gives other experts")
    return problems


def _check_auctions(auctions: list[dict[str, Any]], events: list[dict[str, Any]]) -> list[str]:
    problems, hashes = [], {e["seq"]: e["hash"] for e in events}
    for a in auctions:
        seqs = [e["seq"] for e in a["events"]]
        if seqs != list(range(1, len(seqs) + 1)):
            problems.append(f"auction {a['auction']}: event sequence has gaps or repeats")
        if a["closing_audit_seq"] and hashes.get(a["closing_audit_seq"]) != a["closing_audit_hash"]:
            problems.append(f"auction {a['auction']}: closing audit hash not in the audit events")
    return problems


def _check_land(listings: Iterable[dict[str, Any]]) -> list[str]:
    problems = []
    for x in listings:
        record = x.get("lottery") or {}
        if "seed" in record:
            problems += [f"land {x['listing']}: {p}" for p in lottery.verify(record, x["listing"])]
    return problems


# --- Party signatures, offline ---------------------------------------------------------------------


def _short(fingerprint: object) -> str:
    return _one_line(str(fingerprint)[:12]) + "…"


def _moment(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError("a time is ISO 8601 text")
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a time without its offset")
    return moment


def _in(folder: str, contents: dict[str, bytes]) -> list[str]:
    return sorted(name for name in contents if name.startswith(f"{folder}/"))


def _certificates_in(
    folder: str, contents: dict[str, bytes], problems: list[str]
) -> dict[str, CertInfo]:
    """The certificates of a folder by fingerprint; each file must be the certificate its name says."""
    found: dict[str, CertInfo] = {}
    for name in _in(folder, contents):
        try:
            cert = load_certificate(contents[name])
        except CertificateRefused as exc:
            problems.append(f"{name}: not a readable certificate ({exc.code})")
            continue
        if name != f"{folder}/{cert.sha256}.pem":
            problems.append(f"{name}: holds certificate {_short(cert.sha256)}, not the one named")
            continue
        found[cert.sha256] = cert
    return found


class _Parties:
    """What the package holds to check its signatures: certificates, CA certificates, CRLs."""

    def __init__(self, contents: dict[str, bytes], problems: list[str]) -> None:
        self.certificates = _certificates_in("certificates", contents, problems)
        self.cas = _certificates_in("cas", contents, problems)
        self.crls: dict[str, bytes] = {}
        for name in _in("crls", contents):
            if name != f"crls/{sha256_hex(contents[name])}.crl":
                problems.append(f"{name}: its SHA-256 is not the one named (file changed)")
                continue
            self.crls[sha256_hex(contents[name])] = contents[name]

    def chain(self, name: str, cert: CertInfo, at: dt.datetime, crl: object) -> list[str]:
        """The certificate at the signature's time: valid, fit to sign, issued by a CA certificate
        in the package that could issue then, and not revoked by the CRL current then."""
        subject = f"certificate {_short(cert.sha256)}"
        problems = []
        if not cert.not_before <= at <= cert.not_after:
            problems.append(f"{name}: {subject} was not valid at {at.isoformat()}")
        if not cert.key_usage & SIGNING_KEY_USAGES or cert.is_ca:
            problems.append(f"{name}: {subject} may not sign (key usage)")
        ca = next((c for c in self.cas.values() if certificate_issued_by(cert, c)), None)
        if ca is None:
            problems.append(
                f"{name}: {subject} was not issued by any CA certificate in the package "
                f"(issuer {_one_line(cert.issuer_dn, 120)})"
            )
            return problems
        if not ca_fit_at(ca, at):
            problems.append(f"{name}: CA {_short(ca.sha256)} could not issue at {at.isoformat()}")
        if not isinstance(crl, str) or crl not in self.crls:
            problems.append(
                f"{name}: no revocation list of CA {_short(ca.sha256)} for the signature's time "
                "in the package"
            )
            return problems
        try:
            info = read_crl(self.crls[crl], ca)
        except CrlRefused as exc:
            return [*problems, f"crls/{crl}.crl: {_one_line(exc)}"]
        if info.this_update > at or (info.next_update is not None and info.next_update < at):
            problems.append(f"{name}: crls/{crl}.crl was not current at {at.isoformat()}")
        revoked_at = info.revoked.get(cert.serial)
        if revoked_at is not None and revoked_at <= at:
            problems.append(
                f"{name}: {subject} was revoked at {revoked_at.isoformat()} (crls/{crl}.crl)"
            )
        return problems

    def signature(self, name: str, fingerprint: object, message: bytes, value: object) -> list[str]:
        cert = self.certificates.get(fingerprint) if isinstance(fingerprint, str) else None
        if cert is None:
            return [f"{name}: certificate {_short(fingerprint)} is not in the package"]
        try:
            signature = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
        except (binascii.Error, ValueError):
            signature = b""
        if not signature or not verify_signature(cert, message, signature):
            return [f"{name}: signature does not verify (certificate {_short(fingerprint)})"]
        return []


def _check_signed_act(name: str, record: dict[str, Any], parties: _Parties) -> list[str]:
    statement = record["statement"]
    if not isinstance(statement, str):
        raise TypeError("the statement is text")
    message = statement.encode()
    problems = []
    if sha256_hex(message) != record["statement_sha256"]:
        problems.append(f"{name}: statement does not match its SHA-256 (statement changed)")
    try:
        said = json.loads(statement)
    except (ValueError, RecursionError):
        said = None
    if not isinstance(said, dict):
        problems.append(f"{name}: statement is not the JSON the platform composes")
    else:
        target = {"type": record["target_type"], "id": record["target_id"]}
        if said.get("act") != record["act"] or said.get("target") != target:
            problems.append(
                f"{name}: statement says {_one_line(said.get('act'), 40)} on "
                f"{_one_line(said.get('target'), 80)}, the record {record['act']} on {target}"
            )
        signer = said.get("signer")
        if (
            not isinstance(signer, dict)
            or signer.get("certificate_sha256") != record["certificate"]
        ):
            problems.append(f"{name}: statement names another certificate than the signer's")
    problems += parties.signature(name, record["certificate"], message, record["signature"])
    cert = parties.certificates.get(record["certificate"])
    if cert is not None:
        problems += parties.chain(name, cert, _moment(record["verified_at"]), record.get("crl"))
    return problems


def _check_guarantee(name: str, record: dict[str, Any], parties: _Parties) -> list[str]:
    document = record["document"]
    problems = []
    embedded = load_certificate(document["certificate"]).sha256
    if embedded != record["certificate"]:
        problems.append(
            f"{name}: the document's certificate is not {_short(record['certificate'])}"
        )
    message = canonical_bytes(document["guarantee"])
    problems += [
        p.replace("signature does not verify", "issuer's signature does not verify")
        for p in parties.signature(name, record["certificate"], message, document["signature"])
    ]
    cert = parties.certificates.get(record["certificate"])
    if cert is not None:
        problems += parties.chain(name, cert, _moment(record["verified_at"]), record.get("crl"))
    return problems


def _signature_references(payload: Any) -> Iterable[dict[str, Any]]:
    """The signature records (`signing.services.signature_payload`) anywhere in an audit payload."""
    if isinstance(payload, dict):
        if "signed_act" in payload:
            yield payload
        for value in payload.values():
            yield from _signature_references(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from _signature_references(value)


def _check_parties(contents: dict[str, bytes], audit: list[dict[str, Any]] | None) -> list[str]:
    problems: list[str] = []
    parties = _Parties(contents, problems)
    records: dict[object, tuple[str, dict[str, Any]]] = {}
    guarantees: dict[str, tuple[str, dict[str, Any]]] = {}
    for folder, check in (("signatures", _check_signed_act), ("guarantees", _check_guarantee)):
        for name in _in(folder, contents):
            try:
                record = json.loads(contents[name])
                problems += check(name, record, parties)
                key = record["signed_act" if folder == "signatures" else "guarantee"]
                if name != f"{folder}/{key:06d}.json":
                    problems.append(f"{name}: holds {folder[:-1]} {_one_line(key, 20)} instead")
                if folder == "signatures":
                    records[key] = (name, record)
                else:
                    guarantees[str(key)] = (name, record)
            except (*_DOCUMENT_ERRORS, CertificateRefused) as exc:
                problems.append(f"{name}: not the expected structure: {_one_line(repr(exc))}")
    # The audit chain recorded each signed act's statement and certificate when it happened, and
    # each electronic guarantee's signed content and issuer certificate when it was verified.
    for event in audit or []:
        if event["action"] == "deposits.guarantee.verified" and "signed_sha256" in event["payload"]:
            problems += _check_guarantee_event(event, guarantees.get(str(event["object_id"])))
        for reference in _signature_references(event["payload"]):
            found = records.get(reference["signed_act"])
            seq = event["seq"]
            if found is None:
                problems.append(
                    f"audit event {seq}: signed act {_one_line(reference['signed_act'], 20)} "
                    "is not in the package"
                )
                continue
            name, record = found
            statement = str(record["statement"]).encode()
            if reference.get("statement_sha256") != sha256_hex(statement):
                problems.append(
                    f"{name}: statement differs from the one audit event {seq} recorded"
                )
            if reference.get("certificate_sha256") != record["certificate"]:
                problems.append(
                    f"{name}: certificate differs from the one audit event {seq} recorded"
                )
    return problems


def _check_guarantee_event(
    event: dict[str, Any], found: tuple[str, dict[str, Any]] | None
) -> list[str]:
    seq, payload = event["seq"], event["payload"]
    if found is None:
        return [
            f"audit event {seq}: electronic guarantee {event['object_id']} is not in the package"
        ]
    name, record = found
    problems = []
    signed = canonical_bytes(record["document"]["guarantee"])
    if payload["signed_sha256"] != sha256_hex(signed):
        problems.append(f"{name}: guarantee differs from the one audit event {seq} recorded")
    if payload.get("certificate") != record["certificate"]:
        problems.append(f"{name}: certificate differs from the one audit event {seq} recorded")
    return problems


def _checked_parties(contents: dict[str, bytes], audit: Any) -> list[str]:
    try:
        return _check_parties(contents, audit if isinstance(audit, list) else None)
    except _DOCUMENT_ERRORS as exc:
        return [f"audit.json: not the expected structure: {_one_line(repr(exc))}"]
