"""The platform's PAdES signature on the PDFs it issues, and its check.

Every PDF built by `lib.pdf.build_pdf` leaves through `sign_pdf`: an incremental update appended to
reportlab's bytes (which stay, unchanged, the document's first revision) adds an invisible certification
signature (PAdES baseline B, SHA-256) made with the platform's document certificate (settings
PDF_SIGNING_KEY / PDF_SIGNING_CERTIFICATE, checked at start-up by lib/pdfkeys.py). Any PDF reader then
shows who signed it, and any change to the signed bytes breaks the signature; the certification level
allows no change at all, so even an appended revision is reported.

With PDF_SIGNING_TSA_URL set the signature also carries an RFC 3161 timestamp (PAdES B-T); without it
the signing time is the platform's own statement and signing needs no network.

`verify_pdf` is the check the tests and `manage.py verify_pdf` use: one signature, intact, covering the
whole file, made by the configured platform certificate (or the one given, for documents signed before a
rotation).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from lib.pdfkeys import DEV_CERTIFICATE_PEM, SigningMaterial, load_material

FIELD_NAME = "PlatformSignature"


# --- Signing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PlatformSigner:
    signer: signers.SimpleSigner
    timestamper: timestamps.TimeStamper | None


@functools.lru_cache(maxsize=4)
def _signer_for(key_pem: str, chain_pem: str, tsa_url: str) -> _PlatformSigner:
    """Loaded once per process (keyed by the material itself, so a test overriding the settings gets
    its own signer and never a stale one)."""
    material = load_material(key_pem, chain_pem)
    chain = [asn1_x509.Certificate.load(_der(cert)) for cert in material.chain]
    signer = signers.SimpleSigner(
        signing_cert=chain[0],
        signing_key=asn1_keys.PrivateKeyInfo.load(
            material.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
    timestamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    return _PlatformSigner(signer=signer, timestamper=timestamper)


def platform_signer() -> _PlatformSigner:
    return _signer_for(
        settings.PDF_SIGNING_KEY, settings.PDF_SIGNING_CERTIFICATE, settings.PDF_SIGNING_TSA_URL
    )


def sign_pdf(pdf_bytes: bytes, *, reason: str, location: str | None = None) -> bytes:
    """`pdf_bytes` with the platform's signature appended as an incremental update; `location`
    defaults to PDF_SIGNING_LOCATION. The input bytes are the output's first bytes, unchanged."""
    platform = platform_signer()
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=settings.PDF_SIGNING_LOCATION if location is None else location,
        # A certification signature that permits no change: readers flag any later revision, not
        # just changes to the signed bytes.
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    output = io.BytesIO()
    signers.PdfSigner(metadata, platform.signer, timestamper=platform.timestamper).sign_pdf(
        writer, output=output
    )
    return output.getvalue()


def unsigned_revision(pdf_bytes: bytes) -> bytes:
    """The document as rendered, before the platform's signature was appended (its first revision).
    Rendering is deterministic, so rendering the same content again gives these bytes exactly."""
    reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
    if reader.xrefs.total_revisions < 2:
        return pdf_bytes
    # reportlab ends its one revision with "startxref\n<offset>\n%%EOF\n"; the update starts after.
    end = pdf_bytes.index(b"%%EOF", reader.xrefs.get_startxref_for_revision(0)) + len(b"%%EOF")
    while pdf_bytes[end : end + 1] in (b"\r", b"\n"):
        end += 1
    return pdf_bytes[:end]


# --- Checking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfSignatureCheck:
    """What `verify_pdf` found. `ok` only when nothing is in `problems`."""

    signed: bool
    intact: bool = False
    whole_file: bool = False
    platform: bool = False
    signer: str = ""
    signer_sha256: str = ""
    signed_at: dt.datetime | None = None
    timestamped: bool = False
    # Signed with the committed development certificate: valid, but its key is public, so it proves
    # nothing about who made the file.
    development: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.signed and not self.problems


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@functools.cache
def _dev_certificate_sha256() -> str:
    return hashlib.sha256(
        _der(x509.load_pem_x509_certificate(DEV_CERTIFICATE_PEM.encode()))
    ).hexdigest()


def _configured_material() -> SigningMaterial:
    return load_material(settings.PDF_SIGNING_KEY, settings.PDF_SIGNING_CERTIFICATE)


def verify_pdf(
    pdf_bytes: bytes, *, certificates: Sequence[x509.Certificate] | None = None
) -> PdfSignatureCheck:
    """Check the platform's signature on `pdf_bytes`: exactly one signature, its bytes unchanged, it
    covers the whole file (nothing appended), and its signer is the first of `certificates` (default:
    the configured chain), which chains to the last of them as trust root, at the signing time."""
    chain = list(certificates) if certificates else list(_configured_material().chain)
    expected = hashlib.sha256(_der(chain[0])).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        embedded = reader.embedded_signatures
    except (PdfError, ValueError, KeyError, IndexError) as exc:
        return PdfSignatureCheck(signed=False, problems=[f"not a readable PDF: {exc}"])
    if not embedded:
        return PdfSignatureCheck(signed=False, problems=["the PDF carries no signature"])
    problems: list[str] = []
    if len(embedded) > 1:
        problems.append(f"the PDF carries {len(embedded)} signatures, the platform signs once")
    signature = embedded[0]
    try:
        signer_cert = signature.signer_cert
        signed_at = signature.self_reported_timestamp
        context = ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(_der(chain[-1]))],
            other_certs=[asn1_x509.Certificate.load(_der(c)) for c in chain[:-1]],
            moment=signed_at,
            allow_fetching=False,
        )
        status = validate_pdf_signature(signature, signer_validation_context=context)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        return PdfSignatureCheck(
            signed=True, problems=[*problems, f"the signature cannot be read: {exc}"]
        )
    signer_sha256 = hashlib.sha256(signer_cert.dump()).hexdigest()
    platform = signer_sha256 == expected
    whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not status.intact:
        problems.append("the signed bytes were changed (the document digest does not match)")
    elif not status.valid:
        problems.append("the signature value does not verify with the signer's key")
    if not whole_file:
        problems.append("the signature does not cover the whole file: something was appended")
    if status.docmdp_ok is False:
        problems.append("the document was modified after it was certified")
    if not platform:
        problems.append("the signer is not the platform's document certificate")
    elif status.intact and status.valid and not status.trusted:
        problems.append("the signer's certificate does not chain to the trust root at signing time")
    return PdfSignatureCheck(
        signed=True,
        intact=status.intact and status.valid,
        whole_file=whole_file,
        platform=platform,
        signer=signer_cert.subject.human_friendly,
        signer_sha256=signer_sha256,
        signed_at=signed_at,
        timestamped=status.timestamp_validity is not None,
        development=signer_sha256 == _dev_certificate_sha256(),
        problems=problems,
    )
