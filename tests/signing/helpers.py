"""Certificates for the signing tests: issued by the CA simulator, or by CAs built here (an external CA
the center configures, a look-alike of a trusted CA)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem, x509
from django.utils import timezone

from signing import algorithms, builder, ca_simulator, pki
from tests.conftest import make_uscc

ALGORITHMS = ("sm2", "p256")


def simulator_cert(
    algorithm: str,
    *,
    kind: str = "organization",
    uscc: str | None = None,
    person_id: str | None = None,
    days: int = 365,
    not_before: dt.datetime | None = None,
    key_usage: tuple[str, ...] = ("digital_signature", "non_repudiation"),
) -> tuple[bytes, pki.CertInfo]:
    """(private key PEM, certificate) of a certificate the simulator issued (organization by default)."""
    key_pem, cert_pem = ca_simulator.issue_with_key(
        algorithm=algorithm,
        kind=kind,
        common_name="甲建设公司" if kind == "organization" else "张三",
        organization="甲建设公司",
        uscc=uscc or (make_uscc() if kind == "organization" else None),
        person_id=person_id,
        days=days,
        not_before=not_before,
        key_usage=key_usage,
    )
    return key_pem, pki.load_certificate(cert_pem)


@dataclass
class ExternalCA:
    """A CA outside the platform: its key, certificate and the CRLs it publishes."""

    algorithm: str
    key_pem: bytes
    cert_der: bytes
    subject: x509.Name

    @classmethod
    def create(
        cls,
        algorithm: str,
        subject: x509.Name | None = None,
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        is_ca: bool = True,
        key_usage: tuple[str, ...] = ("key_cert_sign", "crl_sign"),
    ) -> ExternalCA:
        key_pem = algorithms.generate_private_key("sm2" if algorithm == "sm2" else "p256")
        name = subject or builder.name(
            {
                "country_name": "CN",
                "organization_name": "外部 CA",
                "common_name": f"外部根 {algorithm}",
            }
        )
        now = timezone.now()
        der = builder.build_certificate(
            issuer_key_pem=key_pem,
            issuer_name=name,
            subject_name=name,
            subject_spki=algorithms.public_key_der(key_pem),
            not_before=not_before or now - dt.timedelta(days=30),
            not_after=not_after or now + dt.timedelta(days=3650),
            key_usage=key_usage,
            is_ca=is_ca,
        )
        return cls(algorithm=algorithm, key_pem=key_pem, cert_der=der, subject=name)

    def issue(
        self,
        *,
        common_name: str = "乙公司",
        serial_number: str | None = None,
        key_usage: tuple[str, ...] = ("digital_signature", "non_repudiation"),
        not_before: dt.datetime | None = None,
        days: int = 365,
        algorithm: str | None = None,
    ) -> tuple[bytes, pki.CertInfo]:
        key_pem = algorithms.generate_private_key(
            "sm2" if (algorithm or self.algorithm) == "sm2" else "p256"
        )
        start = not_before or timezone.now() - dt.timedelta(minutes=5)
        der = builder.build_certificate(
            issuer_key_pem=self.key_pem,
            issuer_name=self.subject,
            subject_name=builder.name(
                {
                    "country_name": "CN",
                    "common_name": common_name,
                    "serial_number": serial_number or make_uscc(),
                }
            ),
            subject_spki=algorithms.public_key_der(key_pem),
            not_before=start,
            not_after=start + dt.timedelta(days=days),
            key_usage=key_usage,
            is_ca=False,
        )
        return key_pem, pki.load_certificate(der)

    def crl(
        self,
        revoked: dict[int, dt.datetime] | None = None,
        *,
        this_update: dt.datetime | None = None,
        valid_for: dt.timedelta | None = dt.timedelta(days=7),
        number: int = 1,
    ) -> bytes:
        start = this_update or timezone.now() - dt.timedelta(minutes=1)
        return builder.build_crl(
            issuer_key_pem=self.key_pem,
            issuer_name=self.subject,
            revoked=revoked or {},
            number=number,
            this_update=start,
            next_update=None if valid_for is None else start + valid_for,
        )

    def cert_pem(self) -> bytes:
        return bytes(pem.armor("CERTIFICATE", self.cert_der))


def write_trust_file(directory: Path, cas: list[tuple[str, ExternalCA, str]]) -> Path:
    """The SIGNING_TRUSTED_CAS_FILE for `cas` (name, CA, CRL source); certificates beside it."""
    entries = []
    for index, (name, ca, crl) in enumerate(cas):
        certificate = directory / f"ca{index}.pem"
        certificate.write_bytes(ca.cert_pem())
        entries.append({"name": name, "certificate": certificate.name, "crl": crl})
    path = directory / "trusted-cas.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return path
