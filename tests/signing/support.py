"""Signing helpers for tests of every app: a user's certificate from the CA simulator, and the
`signing_challenge` / `signature` a client sends with a signed act.

    key_pem = enrol(supplier)                      # organization certificate (its USCC) or person's
    data = {..., **signed_fields(supplier, key_pem, "bid.submit", "trading.lot", lot.pk, digest=h)}
    services.act(..., signed=signed(supplier, key_pem, "bid.withdraw", "bidding.bid", bid.pk))

Tests that rely on signatures set `settings.SIGNING_PASSWORD_FALLBACK = []` first.
"""

from __future__ import annotations

import base64

from accounts.actors import Actor
from accounts.models import User
from signing import algorithms, ca_simulator, services
from signing.pki import sign_message


def enrol(user: User, algorithm: str = "p256") -> bytes:
    """A fresh key for `user`, a certificate the CA simulator issues for it (an organization
    certificate with the organization's USCC for bidders and agents, a person's otherwise),
    registered on the platform. Returns the private key (PKCS#8 PEM)."""
    actor = Actor.for_user(user)
    key_pem = ca_simulator.generate_key(algorithm)
    cert_pem = services.request_simulated_certificate(
        actor, algorithms.public_key_pem(key_pem), algorithm
    )
    services.register_certificate(actor, cert_pem)
    return key_pem


def signed_fields(
    user: User,
    key_pem: bytes,
    act: str,
    target_type: str,
    target_id: int,
    digest: str = "",
    details: dict[str, str] | None = None,
    certificate: str | None = None,
) -> dict[str, str]:
    """Ask for the challenge as `user` and sign it with `key_pem`: the two wire fields."""
    challenge = services.issue_challenge(
        Actor.for_user(user),
        act=act,
        target_type=target_type,
        target_id=target_id,
        digest=digest,
        details=details,
        certificate=certificate,
    )
    signature = sign_message(key_pem, challenge.statement.encode())
    return {
        "signing_challenge": challenge.token,
        "signature": base64.b64encode(signature).decode(),
    }


def signed(
    user: User,
    key_pem: bytes,
    act: str,
    target_type: str,
    target_id: int,
    digest: str = "",
    details: dict[str, str] | None = None,
    certificate: str | None = None,
) -> services.Signed:
    fields = signed_fields(user, key_pem, act, target_type, target_id, digest, details, certificate)
    return services.Signed(challenge=fields["signing_challenge"], signature=fields["signature"])
