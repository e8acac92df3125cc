"""Certificates: reading them, trusting them, checking them at every signature, and their CRLs.

A certificate is accepted for a signature when, at the moment of the act,

* it is inside its validity period;
* its key usage allows signing (digitalSignature or nonRepudiation);
* a CA the center trusts issued it: a trusted CA certificate whose subject is the certificate's issuer
  *and* whose key verifies the certificate's signature (a look-alike CA with the same name but another
  key is not trusted), and which is itself valid, a CA (basicConstraints cA) and allowed to sign
  certificates (keyCertSign);
* the newest revocation list stored for that CA is verified, current (before its nextUpdate) and does
  not list it. No current CRL refuses the certificate (fail closed): a CA whose CRL cannot be fetched
  stops its certificates from signing rather than letting revoked ones through.

Trusted CAs are configuration (`SIGNING_TRUSTED_CAS_FILE`, see docs/signing.md), plus the CA
simulator's roots while `CA_SIMULATOR` is on. Certificates and CRLs are parsed with asn1crypto for both
algorithms (cryptography cannot read SM2 keys); signatures go through `signing.algorithms`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from asn1crypto import crl as asn1_crl
from asn1crypto import pem, x509
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc as uscc_number

from lib.errors import DomainError
from lib.text import unsafe_char
from signing import algorithms
from signing.algorithms import AlgorithmName, UnsupportedKey
from signing.models import RevocationList, SimulatedAuthority

log = logging.getLogger(__name__)

MAX_CERTIFICATE_BYTES: Final = 64 * 1024
MAX_CRL_BYTES: Final = 8 * 1024 * 1024
CRL_FETCH_TIMEOUT_SECONDS: Final = 10
# What a DN or a subject attribute may take in the database and on pages.
MAX_DN_LENGTH: Final = 500
MAX_ATTRIBUTE_LENGTH: Final = 128
SIGNING_KEY_USAGES: Final = frozenset({"digital_signature", "non_repudiation"})
SIMULATOR_SOURCE_PREFIX: Final = "simulator:"
# Extensions a certificate may mark critical: those the checks below read, plus the ones whose
# content does not restrict a directly issued certificate's signature (names, policies, purposes).
UNDERSTOOD_CRITICAL_EXTENSIONS: Final = frozenset(
    {
        "basic_constraints",
        "key_usage",
        "extended_key_usage",
        "subject_alt_name",
        "certificate_policies",
    }
)


class CertificateRefused(DomainError):
    """A certificate that cannot sign here and now; `code` says why."""

    code = "CERTIFICATE_MALFORMED"
    http_status = 400


def _refused(code: str) -> CertificateRefused:
    messages = {
        "CERTIFICATE_MALFORMED": _("证书无法解析（需要 PEM 或 DER 编码的 X.509 v3 证书）。"),
        "CERTIFICATE_ALGORITHM": _("证书算法不受支持（仅支持 SM2 和 ECDSA P-256）。"),
        "CERTIFICATE_NOT_YET_VALID": _("证书尚未生效。"),
        "CERTIFICATE_EXPIRED": _("证书已过期。"),
        "CERTIFICATE_UNTRUSTED": _("证书不是由平台信任的 CA 签发的。"),
        "CERTIFICATE_REVOKED": _("证书已被 CA 吊销。"),
        "CERTIFICATE_CRL_UNAVAILABLE": _(
            "无法取得签发 CA 当前有效的证书吊销列表，暂不能使用该证书。"
        ),
        "CERTIFICATE_KEY_USAGE": _("证书的密钥用法不允许签名。"),
    }
    return CertificateRefused(messages[code], code=code)


@dataclass(frozen=True)
class CertInfo:
    """What the platform reads from one X.509 certificate."""

    der: bytes = field(repr=False)
    sha256: str
    algorithm: AlgorithmName
    serial: int
    serial_hex: str
    subject_dn: str
    issuer_dn: str
    common_name: str
    # 统一社会信用代码 of the subject (serialNumber or organizationIdentifier), when it carries one.
    uscc: str | None
    # The person's identifier (serialNumber when it is not a USCC), for person certificates.
    person_id: str | None
    not_before: dt.datetime
    not_after: dt.datetime
    key_usage: frozenset[str]
    # The SubjectPublicKeyInfo (DER): hand it to verify_signature through the CertInfo, not directly.
    public_key: bytes = field(repr=False)
    organization_name: str = ""
    is_ca: bool = False

    def pem(self) -> str:
        return str(pem.armor("CERTIFICATE", self.der).decode("ascii"))


@dataclass(frozen=True)
class TrustedCA:
    name: str
    cert: CertInfo
    # Where its CRL comes from: a file path, a file:// or http(s):// URL, or "simulator:<alg>:<purpose>".
    crl_source: str


# --- reading certificates --------------------------------------------------------------------------

_DN_LABELS: Final = {
    "2.5.4.3": "CN",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.8": "ST",
    "2.5.4.7": "L",
    "2.5.4.5": "serialNumber",
    "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress",
}
OID_COMMON_NAME: Final = "2.5.4.3"
OID_ORGANIZATION: Final = "2.5.4.10"
OID_SERIAL_NUMBER: Final = "2.5.4.5"
OID_ORGANIZATION_IDENTIFIER: Final = "2.5.4.97"


def _der_of(data: bytes | str, limit: int) -> bytes:
    raw = data.encode("ascii", errors="replace") if isinstance(data, str) else bytes(data)
    if len(raw) > limit:
        raise _refused("CERTIFICATE_MALFORMED")
    if pem.detect(raw):
        try:
            _, _, der = pem.unarmor(raw.strip())
        except ValueError as exc:
            raise _refused("CERTIFICATE_MALFORMED") from exc
        return bytes(der)
    return raw


def _attributes(name: x509.Name) -> list[tuple[str, str]]:
    """(dotted OID, text) of each attribute, in the order the certificate has them. A value with a
    character no text column or page takes (NUL, other controls) makes the certificate malformed."""
    found = []
    for rdn in name.chosen:
        for attribute in rdn:
            value = str(attribute["value"].native)
            if unsafe_char(value) is not None:
                raise _refused("CERTIFICATE_MALFORMED")
            found.append((str(attribute["type"].dotted), value[:MAX_ATTRIBUTE_LENGTH]))
    return found


def _dn_text(name: x509.Name) -> str:
    """An RFC 4514-style string (most specific attribute first), for display and the database."""
    parts = []
    for oid, value in reversed(_attributes(name)):
        escaped = value.replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
        parts.append(f"{_DN_LABELS.get(oid, oid)}={escaped}")
    return ",".join(parts)[:MAX_DN_LENGTH]


def _first(attributes: list[tuple[str, str]], oid: str) -> str:
    return next((value for found, value in attributes if found == oid), "")


def _uscc(value: str) -> str | None:
    """The USCC in an attribute value: the bare 18 characters, or after a "XXXCN-" style prefix
    (organizationIdentifier's registration-scheme form, e.g. "NTRCN-91…")."""
    candidate = value.strip().upper()
    if "-" in candidate:
        candidate = candidate.rsplit("-", 1)[1]
    return candidate if uscc_number.is_valid(candidate) else None


def load_certificate(data: bytes | str) -> CertInfo:
    """Read an X.509 v3 certificate (PEM or DER) with an SM2 or P-256 key."""
    der = _der_of(data, MAX_CERTIFICATE_BYTES)
    try:
        cert = x509.Certificate.load(der, strict=True)
        tbs = cert["tbs_certificate"]
        if tbs["version"].native != "v3":
            raise _refused("CERTIFICATE_MALFORMED")
        # Parse every field now: asn1crypto is lazy, and a malformed field must fail here.
        tbs.native  # noqa: B018
        subject = tbs["subject"]
        issuer = tbs["issuer"]
        spki = tbs["subject_public_key_info"].dump()
        serial = int(tbs["serial_number"].native)
        not_before = tbs["validity"]["not_before"].native
        not_after = tbs["validity"]["not_after"].native
        key_usage_value = cert.key_usage_value
        basic_constraints = cert.basic_constraints_value
        critical = {str(extension) for extension in cert.critical_extensions}
    except CertificateRefused:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _refused("CERTIFICATE_MALFORMED") from exc
    # RFC 5280 4.2: a critical extension the checker does not process makes the certificate unusable.
    if critical - UNDERSTOOD_CRITICAL_EXTENSIONS:
        raise _refused("CERTIFICATE_MALFORMED")
    # RFC 5280 4.1.2.2: at most 20 octets (and the database keeps the serial as up to 64 hex digits).
    if abs(serial).bit_length() > 160:
        raise _refused("CERTIFICATE_MALFORMED")
    try:
        algorithm = algorithms.check_public_key(spki)
    except UnsupportedKey as exc:
        raise _refused("CERTIFICATE_ALGORITHM") from exc
    if not isinstance(not_before, dt.datetime) or not isinstance(not_after, dt.datetime):
        raise _refused("CERTIFICATE_MALFORMED")
    attributes = _attributes(subject)
    _attributes(issuer)
    serial_number = _first(attributes, OID_SERIAL_NUMBER)
    uscc = _uscc(serial_number) or _uscc(_first(attributes, OID_ORGANIZATION_IDENTIFIER))
    person_id = serial_number.strip() if serial_number and _uscc(serial_number) is None else None
    return CertInfo(
        der=der,
        sha256=hashlib.sha256(der).hexdigest(),
        algorithm=algorithm,
        serial=serial,
        serial_hex=format(serial, "x"),
        subject_dn=_dn_text(subject),
        issuer_dn=_dn_text(issuer),
        common_name=_first(attributes, OID_COMMON_NAME),
        uscc=uscc,
        person_id=person_id or None,
        not_before=not_before.astimezone(dt.UTC),
        not_after=not_after.astimezone(dt.UTC),
        key_usage=frozenset(key_usage_value.native) if key_usage_value is not None else frozenset(),
        public_key=spki,
        organization_name=_first(attributes, OID_ORGANIZATION),
        is_ca=bool(basic_constraints is not None and basic_constraints["ca"].native),
    )


def verify_signature(cert: CertInfo, message: bytes, signature: bytes) -> bool:
    """Whether `signature` (DER or raw r||s) by the certificate's key is over `message`:
    SM2-with-SM3 (default signer id "1234567812345678") or ECDSA P-256 with SHA-256."""
    try:
        return algorithms.verify(cert.algorithm, cert.public_key, message, signature)
    except UnsupportedKey:
        return False


def sign_message(private_key_pem: bytes, message: bytes) -> bytes:
    """A DER signature over `message` with an SM2 or P-256 private key (PKCS#8 or SEC1 PEM)."""
    return algorithms.sign(private_key_pem, message)


def issued_by(tbs: bytes, signature_algorithm_oid: str, signature: bytes, ca: CertInfo) -> bool:
    """Whether the CA's key made `signature` over the to-be-signed bytes, with the algorithm named."""
    if algorithms.SIGNATURE_OIDS.get(ca.algorithm) != signature_algorithm_oid:
        return False
    return verify_signature(ca, tbs, signature)


def certificate_issued_by(cert: CertInfo, ca: CertInfo) -> bool:
    """Whether `ca` issued `cert`: its subject is the certificate's issuer and its key made the
    certificate's signature (offline checks use it too; validity and revocation are apart)."""
    parsed = x509.Certificate.load(cert.der)
    ca_parsed = x509.Certificate.load(ca.der)
    if parsed["tbs_certificate"]["issuer"] != ca_parsed["tbs_certificate"]["subject"]:
        return False
    # The outer and the signed algorithm identifiers must agree (RFC 5280 4.1.1.2).
    outer = parsed["signature_algorithm"]["algorithm"].dotted
    if parsed["tbs_certificate"]["signature"]["algorithm"].dotted != outer:
        return False
    return issued_by(
        parsed["tbs_certificate"].dump(), outer, bytes(parsed["signature_value"].native), ca
    )


def ca_fit_at(ca: CertInfo, at: dt.datetime) -> bool:
    """Whether a CA certificate may issue at `at`: a CA (basicConstraints cA), allowed to sign
    certificates (keyCertSign), inside its validity. Needs no database."""
    return ca.is_ca and "key_cert_sign" in ca.key_usage and ca.not_before <= at <= ca.not_after


# --- the trust store ---------------------------------------------------------------------------------


def _configured_cas() -> list[TrustedCA]:
    path_setting = str(getattr(settings, "SIGNING_TRUSTED_CAS_FILE", "") or "")
    if not path_setting:
        return []
    path = Path(path_setting)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"SIGNING_TRUSTED_CAS_FILE {path}: {exc}") from exc
    if not isinstance(entries, list):
        raise ImproperlyConfigured(f"SIGNING_TRUSTED_CAS_FILE {path}: not a JSON list")
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(field), str) and entry.get(field)
            for field in ("name", "certificate", "crl")
        ):
            raise ImproperlyConfigured(
                f"SIGNING_TRUSTED_CAS_FILE {path}: each entry needs name, certificate and crl"
            )
        certificate_path = path.parent / entry["certificate"]
        try:
            cert = load_certificate(certificate_path.read_bytes())
        except (OSError, CertificateRefused) as exc:
            raise ImproperlyConfigured(
                f"SIGNING_TRUSTED_CAS_FILE {path}: CA {entry['name']}: {exc}"
            ) from exc
        crl = entry["crl"]
        if "://" not in crl:
            crl = str(path.parent / crl)
        found.append(TrustedCA(name=entry["name"], cert=cert, crl_source=crl))
    return found


def simulator_source(algorithm: str, purpose: str) -> str:
    return f"{SIMULATOR_SOURCE_PREFIX}{algorithm}:{purpose}"


def simulated_ca(authority: SimulatedAuthority) -> TrustedCA:
    """One of the CA simulator's roots as a trusted CA (its CRLs are published, not fetched)."""
    return TrustedCA(
        name=f"CA 模拟器（{authority.algorithm}，{authority.purpose}）",
        cert=load_certificate(bytes(authority.certificate_der)),
        crl_source=simulator_source(authority.algorithm, authority.purpose),
    )


def _simulated_cas() -> list[TrustedCA]:
    if not settings.CA_SIMULATOR:
        return []
    return [simulated_ca(authority) for authority in SimulatedAuthority.objects.order_by("id")]


def trusted_cas() -> list[TrustedCA]:
    """The CAs whose certificates may sign: the configured ones, then the simulator's roots while
    `CA_SIMULATOR` is on."""
    return _configured_cas() + _simulated_cas()


# --- checking a certificate --------------------------------------------------------------------------


def _issuing_ca(cert: CertInfo, at: dt.datetime) -> TrustedCA:
    for ca in trusted_cas():
        if not certificate_issued_by(cert, ca.cert):
            continue
        # Found the issuer by its key; it must itself be fit to issue, now.
        if ca_fit_at(ca.cert, at):
            return ca
        log.warning("trusted CA %s is not fit to issue at %s", ca.name, at.isoformat())
    raise _refused("CERTIFICATE_UNTRUSTED")


def check_certificate(cert: CertInfo, at: dt.datetime, *, purpose: str = "sign") -> TrustedCA:
    """The trusted CA that issued `cert`, when `cert` may sign at `at`; CertificateRefused otherwise.

    `purpose` is "sign" (every signature the platform takes: acts, guarantees); the key usage it needs
    is digitalSignature or nonRepudiation.
    """
    if purpose != "sign":
        raise ValueError(f"unknown certificate purpose {purpose!r}")
    if at < cert.not_before:
        raise _refused("CERTIFICATE_NOT_YET_VALID")
    if at > cert.not_after:
        raise _refused("CERTIFICATE_EXPIRED")
    if not cert.key_usage & SIGNING_KEY_USAGES or cert.is_ca:
        raise _refused("CERTIFICATE_KEY_USAGE")
    ca = _issuing_ca(cert, at)
    revoked_at = _revocation(ca, cert.serial, at)
    if revoked_at is not None and revoked_at <= at:
        raise _refused("CERTIFICATE_REVOKED")
    return ca


# --- revocation lists --------------------------------------------------------------------------------


class CrlRefused(ValueError):
    """A CRL that is not readable, not the CA's, or not signed by the CA's key."""


@dataclass(frozen=True)
class CrlInfo:
    der: bytes
    sha256: str
    number: str
    this_update: dt.datetime
    next_update: dt.datetime | None
    # serial → revocation time
    revoked: dict[int, dt.datetime]


def read_crl(data: bytes, ca: CertInfo) -> CrlInfo:
    """Parse a CRL (PEM or DER) and check that `ca` issued and signed it."""
    if len(data) > MAX_CRL_BYTES:
        raise CrlRefused("CRL too large")
    der = bytes(pem.unarmor(data.strip())[2]) if pem.detect(data) else bytes(data)
    try:
        parsed = asn1_crl.CertificateList.load(der, strict=True)
        tbs = parsed["tbs_cert_list"]
        outer = parsed["signature_algorithm"]["algorithm"].dotted
        if tbs["signature"]["algorithm"].dotted != outer:
            raise CrlRefused("the CRL's algorithm identifiers disagree")
        ca_subject = x509.Certificate.load(ca.der)["tbs_certificate"]["subject"]
        if tbs["issuer"] != ca_subject:
            raise CrlRefused("the CRL's issuer is not the CA")
        signature = bytes(parsed["signature"].native)
        this_update = tbs["this_update"].native
        next_update = tbs["next_update"].native
        revoked: dict[int, dt.datetime] = {}
        for entry in tbs["revoked_certificates"]:
            revoked[int(entry["user_certificate"].native)] = entry["revocation_date"].native
        number_value = parsed.crl_number_value
    except CrlRefused:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise CrlRefused(f"unreadable CRL: {exc}") from exc
    if not issued_by(tbs.dump(), outer, signature, ca):
        raise CrlRefused("the CRL is not signed by the CA's key")
    if "crl_sign" not in ca.key_usage:
        raise CrlRefused("the CA's key usage does not allow signing CRLs")
    if not isinstance(this_update, dt.datetime):
        raise CrlRefused("the CRL has no thisUpdate")
    return CrlInfo(
        der=der,
        sha256=hashlib.sha256(der).hexdigest(),
        number="" if number_value is None else str(number_value.native)[:64],
        this_update=this_update,
        next_update=next_update if isinstance(next_update, dt.datetime) else None,
        revoked=revoked,
    )


def store_crl(ca: TrustedCA, data: bytes, source: str) -> RevocationList:
    """Verify a CRL of `ca` and keep it (once: the same CRL fetched again is the same row)."""
    info = read_crl(data, ca.cert)
    existing = RevocationList.objects.filter(sha256=info.sha256).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return RevocationList.objects.create(
                ca_sha256=ca.cert.sha256,
                der=info.der,
                sha256=info.sha256,
                number=info.number,
                this_update=info.this_update,
                next_update=info.next_update,
                fetched_at=timezone.now(),
                source=source[:500],
            )
    except IntegrityError:
        # Another process stored the same CRL meanwhile.
        return RevocationList.objects.get(sha256=info.sha256)


def current_crl(ca: TrustedCA, at: dt.datetime) -> CrlInfo:
    """The newest stored CRL of `ca`, verified again and current at `at`; CRL_UNAVAILABLE otherwise."""
    row = RevocationList.objects.filter(ca_sha256=ca.cert.sha256).order_by("-this_update", "-id")
    newest = row.first()
    if newest is None:
        raise _refused("CERTIFICATE_CRL_UNAVAILABLE")
    try:
        info = read_crl(bytes(newest.der), ca.cert)
    except CrlRefused as exc:
        log.warning("stored CRL %s of CA %s does not verify: %s", newest.pk, ca.name, exc)
        raise _refused("CERTIFICATE_CRL_UNAVAILABLE") from exc
    # A CRL without nextUpdate never says it is current: treated as stale.
    if info.next_update is None or info.next_update < at:
        raise _refused("CERTIFICATE_CRL_UNAVAILABLE")
    return info


def _revocation(ca: TrustedCA, serial: int, at: dt.datetime) -> dt.datetime | None:
    return current_crl(ca, at).revoked.get(serial)


def fetch_crl(source: str) -> bytes:
    """The bytes at a CRL source: a file path, a file:// URL or an http(s):// URL (short timeout,
    bounded size)."""
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in ("http", "https"):
        # The scheme is checked just above: only http(s) reaches urllib here.
        request = urllib.request.Request(source, headers={"User-Agent": "bidhall-crl-fetch"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=CRL_FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            data = bytes(response.read(MAX_CRL_BYTES + 1))
    elif parsed.scheme == "file":
        data = _read_file(Path(urllib.request.url2pathname(parsed.path)))
    elif "://" not in source:
        data = _read_file(Path(source))
    else:
        raise CrlRefused(f"unsupported CRL source scheme {parsed.scheme!r}")
    if len(data) > MAX_CRL_BYTES:
        raise CrlRefused("CRL too large")
    return data


def _read_file(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(MAX_CRL_BYTES + 1)


@dataclass(frozen=True)
class CrlRefresh:
    ca: str
    stored: bool
    error: str = ""


def refresh_crls() -> list[CrlRefresh]:
    """Fetch, verify and store the CRL of every configured CA (the simulator's roots publish their
    own: `signing.ca_simulator.refresh_crls`). A CA whose fetch fails keeps its stored CRL, which
    stops being current at its nextUpdate."""
    results = []
    for ca in trusted_cas():
        if ca.crl_source.startswith(SIMULATOR_SOURCE_PREFIX):
            continue
        try:
            store_crl(ca, fetch_crl(ca.crl_source), ca.crl_source)
        except (OSError, ValueError) as exc:  # CrlRefused is a ValueError, as is a malformed URL
            log.warning("CRL of %s from %s refused: %s", ca.name, ca.crl_source, exc)
            results.append(CrlRefresh(ca=ca.name, stored=False, error=str(exc)[:300]))
            continue
        results.append(CrlRefresh(ca=ca.name, stored=True))
    return results
