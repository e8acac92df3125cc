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
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from django.conf import settings
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from lib.pdfkeys import DEV_CERTIFICATE_PEM, PrivateKey, load_material

FIELD_NAME = "PlatformSignature"
# Bytes a CMS container needs besides its certificates: the signature value (512 for RSA-4096), the
# signed attributes (content type, digest, signing time, the signing certificate's hash, the CMS
# algorithm protection) and the structure around them come to about 1 KB; 4 KB leaves ample room.
_CONTAINER_OVERHEAD = 4096


# --- Signing --------------------------------------------------------------------------------------


@dataclass
class _PlatformSigner:
    signer: signers.SimpleSigner
    timestamper: timestamps.TimeStamper | None
    # Room left in the file for the signature container (hexadecimal digits). pyHanko would otherwise
    # work it out by building a dummy container first, for every document (half the cost of a
    # signature, and with a TSA one more request to it); without a timestamp the container is the chain
    # plus a signature and a few attributes, so its size is known. With a TSA the token's size is not
    # (it carries the TSA's chain): the first signature lets pyHanko measure it (with its 50% margin),
    # and later ones reuse that room.
    bytes_reserved: int | None


class _ParsedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner parses its private key again for every signature, and parsing an RSA key
    checks it (about 50 ms of CPU); this one signs with the key parsed once, at start."""

    def __init__(self, *, key: PrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hash_algorithm))
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if mechanism.signature_algo == "rsassa_pkcs1v15":
            return self._key.sign(data, PKCS1v15(), hash_algorithm)
        return super().sign_raw(data, digest_algorithm)


@functools.lru_cache(maxsize=4)
def _signer_for(key_pem: str, chain_pem: str, tsa_url: str) -> _PlatformSigner:
    """Loaded once per process (keyed by the material itself, so a test overriding the settings gets
    its own signer and never a stale one)."""
    material = load_material(key_pem, chain_pem)
    chain = list(load_certs_from_pemder_data(material.chain_pem()))
    signer = _ParsedKeySigner(
        key=material.key,
        signing_cert=chain[0],
        signing_key=load_private_key_from_pemder_data(material.key_pem(), passphrase=None),
        cert_registry=SimpleCertificateStore.from_certs(chain),
    )
    timestamper = timestamps.HTTPTimeStamper(tsa_url) if tsa_url else None
    # Counted in hexadecimal digits, as /Contents holds the container: two per byte.
    reserved = (
        None if timestamper else 2 * (sum(len(c.dump()) for c in chain) + _CONTAINER_OVERHEAD)
    )
    return _PlatformSigner(signer=signer, timestamper=timestamper, bytes_reserved=reserved)


def platform_signer() -> _PlatformSigner:
    return _signer_for(
        settings.PDF_SIGNING_KEY, settings.PDF_SIGNING_CERTIFICATE, settings.PDF_SIGNING_TSA_URL
    )


def sign_pdf(pdf_bytes: bytes, *, reason: str, location: str | None = None) -> bytes:
    """`pdf_bytes` with the platform's signature appended as an incremental update; `location`
    defaults to PDF_SIGNING_LOCATION. The input bytes are the output's first bytes, unchanged.

    Synchronous code only (views, commands, the clock): pyHanko runs the signature in an event loop of
    its own, which cannot start inside a running one (an async consumer would use sync_to_async)."""
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
        writer, bytes_reserved=platform.bytes_reserved, output=output
    )
    signed = output.getvalue()
    if platform.bytes_reserved is None:
        (signature,) = PdfFileReader(io.BytesIO(signed), strict=False).embedded_signatures
        platform.bytes_reserved = 2 * len(signature.sig_object["/Contents"])
    return signed


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

# What lib.pdfkeys accepts at start-up: either usage will do (pyHanko's default insists on
# nonRepudiation, which not every CA's document-signing certificate carries).
_KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)


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


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@functools.cache
def _dev_certificate_sha256() -> str:
    return hashlib.sha256(
        _der(x509.load_pem_x509_certificate(DEV_CERTIFICATE_PEM.encode()))
    ).hexdigest()


@functools.lru_cache(maxsize=4)
def _chain(chain_pem: str) -> tuple[x509.Certificate, ...]:
    # Only the certificates: checking needs no private key (and parsing an RSA key is slow).
    return tuple(x509.load_pem_x509_certificates(chain_pem.encode()))


def verify_pdf(
    pdf_bytes: bytes, *, certificates: Sequence[x509.Certificate] | None = None
) -> PdfSignatureCheck:
    """Check the platform's signature on `pdf_bytes`: exactly one signature, its bytes unchanged, it
    covers the whole file (nothing appended), and its signer is the first of `certificates` (default:
    the configured chain), which chains to the last of them as trust root, at the signing time."""
    chain = list(certificates) if certificates else list(_chain(settings.PDF_SIGNING_CERTIFICATE))
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
        pyhanko_chain = list(load_certs_from_pemder_data(b"".join(map(_pem, chain))))
        context = ValidationContext(
            trust_roots=pyhanko_chain[-1:],
            other_certs=pyhanko_chain[:-1],
            moment=signed_at,
            allow_fetching=False,
        )
        status = validate_pdf_signature(
            signature, signer_validation_context=context, key_usage_settings=_KEY_USAGE
        )
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
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        problems.append("the signature's timestamp token does not verify")
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
        # A TSA's time when there is one: it does not rest on the platform's clock.
        signed_at=stamp.timestamp if stamp is not None else signed_at,
        timestamped=stamp is not None,
        development=signer_sha256 == _dev_certificate_sha256(),
        problems=problems,
    )
