"""The two signature algorithms the platform accepts, with no Django in sight.

SM2 with SM3 (GB/T 32918, signer identity the default "1234567812345678", as Chinese CAs and tokens
use) through tongsuopy, and ECDSA P-256 with SHA-256 through cryptography. Both the server (signing.pki,
the CA simulator) and the command-line signer (signing.cli) sign and verify through this module, so there
is one implementation of each; it imports only the pinned crypto libraries so the command-line signer
runs on a machine that has no Django.

Keys travel as PEM (PKCS#8 private keys, SubjectPublicKeyInfo public keys); signatures are DER
`SEQUENCE {r, s}`. Verification also accepts the raw `r || s` form (64 bytes) that WebCrypto produces.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from asn1crypto import algos, keys, pem
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes as std_hashes
from cryptography.hazmat.primitives import serialization as std_serialization
from cryptography.hazmat.primitives.asymmetric import ec as std_ec
from tongsuopy.crypto import exceptions as gm_exceptions
from tongsuopy.crypto import hashes as gm_hashes
from tongsuopy.crypto import serialization as gm_serialization
from tongsuopy.crypto.asymciphers import ec as gm_ec

AlgorithmName = Literal["sm2", "p256"]
ALGORITHMS: Final[tuple[AlgorithmName, ...]] = ("sm2", "p256")

# Object identifiers, compared in dotted form: asn1crypto names only some of them, and another
# library loaded in the same process may register names for the others.
OID_EC_PUBLIC_KEY: Final = "1.2.840.10045.2.1"
OID_CURVE_P256: Final = "1.2.840.10045.3.1.7"
OID_CURVE_SM2: Final = "1.2.156.10197.1.301"
OID_SIG_ECDSA_SHA256: Final = "1.2.840.10045.4.3.2"
OID_SIG_SM2_SM3: Final = "1.2.156.10197.1.501"

CURVE_OIDS: Final[dict[str, AlgorithmName]] = {OID_CURVE_P256: "p256", OID_CURVE_SM2: "sm2"}
SIGNATURE_OIDS: Final[dict[AlgorithmName, str]] = {
    "p256": OID_SIG_ECDSA_SHA256,
    "sm2": OID_SIG_SM2_SM3,
}
# Both curves have 256-bit orders: r and s are 32 bytes each in the raw form.
RAW_SIGNATURE_LENGTH: Final = 64
# A PEM key or certificate larger than this is not one (bounds what is parsed from outside).
MAX_PEM_BYTES: Final = 64 * 1024
# DER signatures of 256-bit curves are at most 72 bytes; anything much larger is not one.
MAX_SIGNATURE_BYTES: Final = 256


class UnsupportedKey(ValueError):
    """A key that is not a PKCS#8/SEC1 SM2 or P-256 key, or a public key that is not SM2 or P-256."""


def _der(data: bytes) -> bytes:
    if len(data) > MAX_PEM_BYTES:
        raise UnsupportedKey("key too large")
    if pem.detect(data):
        _, _, der = pem.unarmor(data)
        return bytes(der)
    return data


def _private_key_info(private_key_pem: bytes) -> keys.PrivateKeyInfo:
    """The key as PKCS#8, whether it came as PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY")."""
    der = _der(private_key_pem)
    try:
        info = keys.PrivateKeyInfo.load(der, strict=True)
        info["private_key_algorithm"]["algorithm"].dotted  # noqa: B018 - forces the parse
        return info
    except ValueError:
        pass
    try:
        sec1 = keys.ECPrivateKey.load(der, strict=True)
        curve = sec1["parameters"].chosen.dotted
    except (ValueError, AttributeError) as exc:
        raise UnsupportedKey("not a PKCS#8 or SEC1 EC private key") from exc
    return keys.PrivateKeyInfo(
        {
            "version": 0,
            "private_key_algorithm": {
                "algorithm": OID_EC_PUBLIC_KEY,
                "parameters": keys.ECDomainParameters(name="named", value=curve),
            },
            "private_key": sec1,
        }
    )


def _curve_of(algorithm_identifier: Any) -> AlgorithmName:
    try:
        if algorithm_identifier["algorithm"].dotted != OID_EC_PUBLIC_KEY:
            raise UnsupportedKey("not an elliptic-curve key")
        parameters = algorithm_identifier["parameters"]
        if parameters.name != "named":
            raise UnsupportedKey("the curve is not named")
        curve = str(parameters.chosen.dotted)
    except (ValueError, KeyError, AttributeError) as exc:
        raise UnsupportedKey("unreadable key algorithm") from exc
    if curve not in CURVE_OIDS:
        raise UnsupportedKey("curve is neither SM2 nor P-256")
    return CURVE_OIDS[curve]


def private_key_algorithm(private_key_pem: bytes) -> AlgorithmName:
    """ "sm2" or "p256", from the curve named in the private key."""
    return _curve_of(_private_key_info(private_key_pem)["private_key_algorithm"])


def public_key_algorithm(spki: bytes) -> AlgorithmName:
    """ "sm2" or "p256", from a SubjectPublicKeyInfo (DER or PEM)."""
    try:
        info = keys.PublicKeyInfo.load(_der(spki), strict=True)
        algorithm = info["algorithm"]
    except ValueError as exc:
        raise UnsupportedKey("not a SubjectPublicKeyInfo") from exc
    return _curve_of(algorithm)


def _load_private(private_key_pem: bytes) -> tuple[AlgorithmName, Any]:
    info = _private_key_info(private_key_pem)
    algorithm = _curve_of(info["private_key_algorithm"])
    der = info.dump()
    try:
        if algorithm == "sm2":
            return algorithm, gm_serialization.load_der_private_key(der, None)
        return algorithm, std_serialization.load_der_private_key(der, None)
    except (ValueError, TypeError, gm_exceptions.UnsupportedAlgorithm) as exc:
        raise UnsupportedKey("unreadable private key") from exc


def _load_public(spki_der: bytes, algorithm: AlgorithmName) -> Any:
    try:
        if algorithm == "sm2":
            return gm_serialization.load_der_public_key(spki_der)
        return std_serialization.load_der_public_key(spki_der)
    except (ValueError, TypeError, gm_exceptions.UnsupportedAlgorithm) as exc:
        raise UnsupportedKey("unreadable public key") from exc


def check_public_key(spki: bytes) -> AlgorithmName:
    """The algorithm of a SubjectPublicKeyInfo whose point is on its curve; UnsupportedKey otherwise."""
    algorithm = public_key_algorithm(spki)
    key = _load_public(_der(spki), algorithm)
    if algorithm == "p256" and not isinstance(key, std_ec.EllipticCurvePublicKey):
        raise UnsupportedKey("not an EC public key")
    return algorithm


def generate_private_key(algorithm: AlgorithmName) -> bytes:
    """A fresh private key as unencrypted PKCS#8 PEM."""
    if algorithm == "sm2":
        key = gm_ec.generate_private_key(gm_ec.SM2())
        return bytes(
            key.private_bytes(
                gm_serialization.Encoding.PEM,
                gm_serialization.PrivateFormat.PKCS8,
                gm_serialization.NoEncryption(),
            )
        )
    if algorithm == "p256":
        std_key = std_ec.generate_private_key(std_ec.SECP256R1())
        return std_key.private_bytes(
            std_serialization.Encoding.PEM,
            std_serialization.PrivateFormat.PKCS8,
            std_serialization.NoEncryption(),
        )
    raise UnsupportedKey(f"unknown algorithm {algorithm!r}")


def public_key_der(private_key_pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo (DER) of a private key."""
    algorithm, key = _load_private(private_key_pem)
    if algorithm == "sm2":
        return bytes(
            key.public_key().public_bytes(
                gm_serialization.Encoding.DER,
                gm_serialization.PublicFormat.SubjectPublicKeyInfo,
            )
        )
    return bytes(
        key.public_key().public_bytes(
            std_serialization.Encoding.DER,
            std_serialization.PublicFormat.SubjectPublicKeyInfo,
        )
    )


def public_key_pem(private_key_pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo of a private key, as PEM ("PUBLIC KEY"): what a CA is handed."""
    return bytes(pem.armor("PUBLIC KEY", public_key_der(private_key_pem)))


def sign(private_key_pem: bytes, message: bytes) -> bytes:
    """A DER signature of `message`: SM2-with-SM3 (default signer id) or ECDSA-SHA256 by the key's curve."""
    algorithm, key = _load_private(private_key_pem)
    if algorithm == "sm2":
        return bytes(key.sign(message, gm_ec.ECDSA(gm_hashes.SM3())))
    return bytes(key.sign(message, std_ec.ECDSA(std_hashes.SHA256())))


def _signature_forms(signature: bytes) -> list[bytes]:
    """The DER encodings `signature` may stand for: itself when it is a DER `SEQUENCE {r, s}`, and
    the DER of `r || s` when it is 64 bytes (a 64-byte value can be both, so both are tried)."""
    forms: list[bytes] = []
    if len(signature) > MAX_SIGNATURE_BYTES:
        return forms
    try:
        parsed = algos.DSASignature.load(signature, strict=True)
        r, s = int(parsed["r"].native), int(parsed["s"].native)
        if r > 0 and s > 0:
            forms.append(signature)
    except (ValueError, TypeError):
        pass
    if len(signature) == RAW_SIGNATURE_LENGTH:
        forms.append(algos.DSASignature.from_p1363(signature).dump())
    return forms


def verify(algorithm: AlgorithmName, spki_der: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` (DER or raw r||s) is the key's signature over `message`.

    False for any signature that does not verify, including unreadable ones; UnsupportedKey only when the
    public key itself is unusable (a certificate problem, not a signature problem).
    """
    if public_key_algorithm(spki_der) != algorithm:
        raise UnsupportedKey("the key is not of the expected algorithm")
    key = _load_public(spki_der, algorithm)
    for der in _signature_forms(signature):
        try:
            if algorithm == "sm2":
                key.verify(der, message, gm_ec.ECDSA(gm_hashes.SM3()))
            else:
                key.verify(der, message, std_ec.ECDSA(std_hashes.SHA256()))
        except (InvalidSignature, gm_exceptions.InvalidSignature, ValueError):
            continue
        return True
    return False
