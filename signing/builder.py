"""Building X.509 certificates and CRLs for SM2 and P-256 keys (no Django).

The CA simulator issues with it, and tests build look-alike and external CAs with it. Both
algorithms go through asn1crypto's structures and are signed by `signing.algorithms`, since
cryptography's builders cannot sign with an SM2 key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import keys, x509

from signing import algorithms
from signing.algorithms import AlgorithmName


def asn1_time(value: dt.datetime) -> x509.Time:
    """RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds."""
    utc = value.astimezone(dt.UTC).replace(microsecond=0)
    if utc.year < 2050:
        return x509.Time(name="utc_time", value=utc)
    return x509.Time(name="general_time", value=utc)


def signature_algorithm(algorithm: AlgorithmName) -> dict[str, Any]:
    # No parameters for either (RFC 5758 3.2 for ECDSA; GM/T 0015 for SM2-with-SM3).
    return {"algorithm": algorithms.SIGNATURE_OIDS[algorithm]}


def key_identifier(spki_der: bytes) -> bytes:
    """RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (an identifier, not a security
    function)."""
    bits = keys.PublicKeyInfo.load(spki_der)["public_key"].contents
    return hashlib.sha1(bytes(bits), usedforsecurity=False).digest()


def name(attributes: Mapping[str, str]) -> x509.Name:
    """A distinguished name from asn1crypto attribute names (common_name, organization_name,
    serial_number, organization_identifier, country_name…), UTF8String where text is free."""
    return x509.Name.build(dict(attributes), use_printable=False)


def random_serial() -> int:
    # Positive, at most 20 octets (RFC 5280 4.1.2.2), unguessable.
    return secrets.randbits(159) | 1 << 64


def build_certificate(
    *,
    issuer_key_pem: bytes,
    issuer_name: x509.Name,
    subject_name: x509.Name,
    subject_spki: bytes,
    not_before: dt.datetime,
    not_after: dt.datetime,
    key_usage: Iterable[str],
    is_ca: bool,
    serial: int | None = None,
    extra_extensions: Iterable[Mapping[str, Any]] = (),
) -> bytes:
    """A DER X.509 v3 certificate signed by the issuer key (SM2 or P-256, read from the key).

    `extra_extensions` are asn1crypto Extension values ({"extn_id", "critical", "extn_value"})."""
    algorithm = algorithms.private_key_algorithm(issuer_key_pem)
    issuer_spki = algorithms.public_key_der(issuer_key_pem)
    extensions: list[dict[str, Any]] = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": is_ca}},
        {"extn_id": "key_usage", "critical": True, "extn_value": set(key_usage)},
        {
            "extn_id": "key_identifier",
            "critical": False,
            "extn_value": key_identifier(subject_spki),
        },
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            "extn_value": {"key_identifier": key_identifier(issuer_spki)},
        },
        *(dict(extension) for extension in extra_extensions),
    ]
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial if serial is not None else random_serial(),
            "signature": signature_algorithm(algorithm),
            "issuer": issuer_name,
            "validity": {"not_before": asn1_time(not_before), "not_after": asn1_time(not_after)},
            "subject": subject_name,
            "subject_public_key_info": keys.PublicKeyInfo.load(subject_spki),
            "extensions": extensions,
        }
    )
    certificate = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": signature_algorithm(algorithm),
            "signature_value": algorithms.sign(issuer_key_pem, tbs.dump()),
        }
    )
    return bytes(certificate.dump())


def self_signed_ca(
    key_pem: bytes, subject: x509.Name, not_before: dt.datetime, not_after: dt.datetime
) -> bytes:
    """A root CA certificate (DER) that may sign certificates and CRLs."""
    return build_certificate(
        issuer_key_pem=key_pem,
        issuer_name=subject,
        subject_name=subject,
        subject_spki=algorithms.public_key_der(key_pem),
        not_before=not_before,
        not_after=not_after,
        key_usage=("key_cert_sign", "crl_sign", "digital_signature"),
        is_ca=True,
    )


def build_crl(
    *,
    issuer_key_pem: bytes,
    issuer_name: x509.Name,
    revoked: Mapping[int, dt.datetime],
    number: int,
    this_update: dt.datetime,
    next_update: dt.datetime | None,
) -> bytes:
    """A DER v2 CRL listing `revoked` (serial → revocation time), signed by the issuer key."""
    algorithm = algorithms.private_key_algorithm(issuer_key_pem)
    fields: dict[str, Any] = {
        "version": "v2",
        "signature": signature_algorithm(algorithm),
        "issuer": issuer_name,
        "this_update": asn1_time(this_update),
        "crl_extensions": [
            {"extn_id": "crl_number", "critical": False, "extn_value": number},
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {
                    "key_identifier": key_identifier(algorithms.public_key_der(issuer_key_pem))
                },
            },
        ],
    }
    if next_update is not None:
        fields["next_update"] = asn1_time(next_update)
    # RFC 5280 5.1.2.6: with no revoked certificate the list is absent, not empty.
    if revoked:
        fields["revoked_certificates"] = [
            {"user_certificate": serial, "revocation_date": asn1_time(when)}
            for serial, when in sorted(revoked.items())
        ]
    tbs = asn1_crl.TbsCertList(fields)
    return bytes(
        asn1_crl.CertificateList(
            {
                "tbs_cert_list": tbs,
                "signature_algorithm": signature_algorithm(algorithm),
                "signature": algorithms.sign(issuer_key_pem, tbs.dump()),
            }
        ).dump()
    )
