"""Sealing bids so that nobody can read them before the deadline.

Two layers, both PyNaCl (libsodium):
- inner: the bidder's decryption code → scrypt → a SecretBox key (the bidder must come back and decrypt
  online at the opening; a bid it cannot decrypt is its own failure);
- outer: a SealedBox to the project's public key. The project's private key exists only wrapped by a
  SecretBox under BID_MASTER_KEY (from the environment, never in the database), and only
  `bidding.services.project_private_key` unwraps it, each caller at its own moment (bids: at or
  after the deadline).

So the database and the stored files hold ciphertext only; reading a bid needs the master key, the
deadline to have passed, and the bidder's code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": SecretBox.KEY_SIZE}


class SealError(Exception):
    """A ciphertext that does not open: corrupted, wrong key, or wrong code."""


def _master() -> SecretBox:
    return SecretBox(bytes.fromhex(settings.BID_MASTER_KEY))


def new_project_key() -> tuple[bytes, bytes]:
    """(public key, private key wrapped under the master key)."""
    private = PrivateKey.generate()
    return bytes(private.public_key), _master().encrypt(bytes(private))


def unwrap_private_key(wrapped: bytes) -> PrivateKey:
    try:
        return PrivateKey(_master().decrypt(wrapped))
    except CryptoError as exc:
        raise SealError("the project key does not unwrap under this master key") from exc


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def code_key(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(code.encode(), salt=salt, **SCRYPT)


def seal(public_key: bytes, inner_key: bytes, plaintext: bytes) -> bytes:
    inner = SecretBox(inner_key).encrypt(plaintext)
    return SealedBox(PublicKey(public_key)).encrypt(inner)


def open_outer(private: PrivateKey, ciphertext: bytes) -> bytes:
    try:
        return SealedBox(private).decrypt(ciphertext)
    except CryptoError as exc:
        raise SealError("the sealed box does not open") from exc


def open_inner(inner_key: bytes, inner: bytes) -> bytes:
    try:
        return SecretBox(inner_key).decrypt(inner)
    except CryptoError as exc:
        raise SealError("the bidder's code does not open this bid") from exc


def seal_to(public_key: bytes, data: bytes) -> bytes:
    """Seal a small secret (a bid's file key) to the project's public key."""
    return SealedBox(PublicKey(public_key)).encrypt(data)


def document_fingerprint(content: bytes) -> str:
    """A keyed fingerprint of a bid document's plaintext: equal documents give equal fingerprints,
    and nobody without the master key can test a guessed document against one."""
    key = hmac.new(bytes.fromhex(settings.BID_MASTER_KEY), b"bid-document", hashlib.sha256).digest()
    return hmac.new(key, content, hashlib.sha256).hexdigest()
