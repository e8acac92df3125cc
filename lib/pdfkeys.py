"""The platform's document-signing key and certificate chain (PAdES signatures on its PDFs, lib/pdfsign.py).

Only `cryptography` here: the settings check the material at start-up through this module, and pyHanko
(a few hundred milliseconds to import) is not needed for that.

The material is a PEM private key (ECDSA P-256, or RSA of at least 2048 bits) and a PEM certificate
chain, leaf first: the leaf must hold the key's public half and be valid now. A development pair is
committed in lib/dev-keys/ (public, so the settings refuse it with DEBUG off, as every development
secret, and `manage.py verify_pdf` warns about a document it signed).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

MIN_RSA_BITS = 2048
_DEV_KEYS = Path(__file__).resolve().parent / "dev-keys"
# The development pair (ECDSA P-256, self-signed, "bidhall 开发用文档签名证书 (development only)", valid
# 2000-2125): the settings' default, so a fresh checkout signs its PDFs.
DEV_KEY_PEM = (_DEV_KEYS / "pdf-signing-key.pem").read_text(encoding="ascii").strip()
DEV_CERTIFICATE_PEM = (
    (_DEV_KEYS / "pdf-signing-certificate.pem").read_text(encoding="ascii").strip()
)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class SigningMaterialError(ValueError):
    """The key or certificate chain cannot sign the platform's documents. The message never quotes
    the key."""


@dataclass(frozen=True)
class SigningMaterial:
    key: PrivateKey
    chain: tuple[x509.Certificate, ...]  # leaf first

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)


def _public_der(key: object) -> bytes:
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise SigningMaterialError("the certificate's key is neither ECDSA nor RSA")
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_material(key_pem: str | bytes, chain_pem: str | bytes) -> SigningMaterial:
    """Parse and check the key and chain; raises SigningMaterialError saying what is wrong (not when:
    validity is `check_validity`'s)."""
    key_data = key_pem.encode() if isinstance(key_pem, str) else key_pem
    chain_data = chain_pem.encode() if isinstance(chain_pem, str) else chain_pem
    try:
        key = serialization.load_pem_private_key(key_data, password=None)
    except (ValueError, TypeError) as exc:
        # The parser's message may quote nothing of the key, but keep ours fixed anyway.
        raise SigningMaterialError(
            "the key is not an unencrypted PEM private key (PKCS#8 or traditional)"
        ) from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise SigningMaterialError(
                f"the key uses the curve {key.curve.name}; only P-256 is accepted"
            )
    elif isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise SigningMaterialError(
                f"the key is RSA of {key.key_size} bits; at least {MIN_RSA_BITS} are required"
            )
    else:
        raise SigningMaterialError("the key is neither ECDSA P-256 nor RSA")
    try:
        chain = tuple(x509.load_pem_x509_certificates(chain_data))
    except ValueError as exc:
        raise SigningMaterialError("the certificate chain is not PEM certificates") from exc
    if not chain:
        raise SigningMaterialError("the certificate chain is empty")
    if _public_der(chain[0].public_key()) != _public_der(key.public_key()):
        raise SigningMaterialError(
            "the certificate (the first of the chain) does not belong to the key"
        )
    try:
        usage = chain[0].extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise SigningMaterialError(
            "the certificate's key usage allows neither digitalSignature nor nonRepudiation"
        )
    for child, parent in itertools.pairwise(chain):
        if child.issuer != parent.subject:
            raise SigningMaterialError(
                "the chain is out of order: each certificate must be followed by its issuer's"
            )
    return SigningMaterial(key=key, chain=chain)


def check_validity(material: SigningMaterial, at: dt.datetime) -> None:
    """Every certificate of the chain is valid at `at` (a signature made with an expired certificate
    shows as invalid in every reader)."""
    for cert in material.chain:
        if at < cert.not_valid_before_utc:
            raise SigningMaterialError(
                f"the certificate {cert.subject.rfc4514_string()} is not valid before "
                f"{cert.not_valid_before_utc:%Y-%m-%d}"
            )
        if at > cert.not_valid_after_utc:
            raise SigningMaterialError(
                f"the certificate {cert.subject.rfc4514_string()} expired on "
                f"{cert.not_valid_after_utc:%Y-%m-%d}"
            )


def material_problem(key_pem: str, chain_pem: str, *, at: dt.datetime) -> str | None:
    """Why the settings must refuse this key and chain, or None."""
    try:
        check_validity(load_material(key_pem, chain_pem), at)
    except SigningMaterialError as exc:
        return str(exc)
    return None


def is_development_pair(key_pem: str, chain_pem: str) -> bool:
    """Whether the key or the certificate is the committed development one, however it was re-encoded
    (line endings, PEM flavour): compared by public key, not by text."""
    dev = load_material(DEV_KEY_PEM, DEV_CERTIFICATE_PEM)
    dev_public = _public_der(dev.key.public_key())
    try:
        given = load_material(key_pem, chain_pem)
    except SigningMaterialError:
        return False
    return _public_der(given.key.public_key()) == dev_public or given.leaf == dev.leaf


def self_signed(
    common_name: str,
    *,
    organization: str = "bidhall",
    not_before: dt.datetime,
    not_after: dt.datetime,
    key: PrivateKey | None = None,
) -> SigningMaterial:
    """A new P-256 key (unless given) and a self-signed document-signing certificate for it: the
    committed development pair, tests and benchmarks. Production uses a certificate from a CA (or a
    self-signed one the center publishes): docs/pdf-signatures.md."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return SigningMaterial(key=key, chain=(cert,))
