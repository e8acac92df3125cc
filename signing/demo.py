"""Demo certificates: every demo user holds one, issued by the CA simulator (development and the demo only).

The private keys of these demo certificates are written to `MEDIA_ROOT/demo-keys/<username>.pem` (never
served: media is downloaded only through views that check permission) so that

* the other apps' demo data can sign the acts it performs in a demo user's name (`sign_as`), exactly as a
  client would: ask for the statement, sign it, hand the signature to the service;
* a person trying the demo can sign with the command-line signer (`python -m signing.cli sign --key
  media/demo-keys/supplier.pem`), as someone whose key lives on a token would.

In the browser, a demo user enrols a key of the browser's own on 我的数字证书 (the key never leaves it).
Two demo users hold SM2 certificates (as Chinese CAs issue), the others ECDSA P-256.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.actors import Actor
from accounts.models import User
from signing import algorithms, ca_simulator, services
from signing.models import Algorithm
from signing.pki import load_certificate, sign_message

SM2_USERS = frozenset({"supplier2", "expert"})


def key_path(username: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "demo-keys" / f"{username}.pem"


def _enrol(user: User) -> None:
    algorithm = Algorithm.SM2 if user.username in SM2_USERS else Algorithm.P256
    actor = Actor.for_user(user)
    key_pem = ca_simulator.generate_key(algorithm)
    certificate = services.request_simulated_certificate(
        actor, algorithms.public_key_pem(key_pem), algorithm
    )
    path = key_path(user.username)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key_pem)
    path.chmod(0o600)
    services.register_certificate(actor, certificate)


def seed(out: Any) -> None:
    """Certificates for the users that exist now, so that the later apps' demo data can sign."""
    _enrol_everyone()


def seed_last(out: Any) -> None:
    """Certificates for the users the later apps' demo data created (experts, invited users)."""
    if _enrol_everyone():
        out.write(f"Demo certificates: one per demo user; keys in {key_path('<username>')}\n")


def _enrol_everyone() -> bool:
    if not ca_simulator.enabled():
        return False
    # Every demo login, including the users the accounts demo invited or registered.
    for user in User.objects.filter(is_active=True).select_related("organization").order_by("pk"):
        path = key_path(user.username)
        if path.exists() and demo_certificate(user, path.read_bytes()) is not None:
            continue
        _enrol(user)
    return True


def demo_certificate(user: User, key_pem: bytes) -> str | None:
    """The fingerprint of the user's usable certificate for this key (a demo user may also hold
    certificates of browser keys)."""
    public_key = algorithms.public_key_der(key_pem)
    for certificate in services.usable_certificates(user, timezone.now()):
        if load_certificate(bytes(certificate.der)).public_key == public_key:
            return certificate.sha256
    return None


def sign_as(
    user: User,
    act: str,
    target_type: str,
    target_id: int,
    *,
    digest: str = "",
    details: dict[str, str] | None = None,
) -> services.Signed:
    """Sign `act` as demo user `user` with the key `seed` kept for them, as a client would."""
    key_pem = key_path(user.username).read_bytes()
    challenge = services.issue_challenge(
        Actor.for_user(user),
        act=act,
        target_type=target_type,
        target_id=target_id,
        digest=digest,
        details=details,
        certificate=demo_certificate(user, key_pem),
    )
    signature = sign_message(key_pem, challenge.statement.encode())
    return services.Signed(
        challenge=challenge.token, signature=base64.b64encode(signature).decode()
    )
