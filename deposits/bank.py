"""How banks sign their messages to the platform: HMAC-SHA256 of the raw request body with the secret
agreed with that bank, hex-encoded, in the `X-Bank-Signature` header; the bank names itself in
`X-Bank-Code`. The simulator (`deposits.bank_simulator`) signs the same way."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

SIGNATURE_HEADER = "HTTP_X_BANK_SIGNATURE"
BANK_HEADER = "HTTP_X_BANK_CODE"


def bank_secret(bank: str) -> bytes | None:
    secret = settings.DEPOSIT_BANK_SECRETS.get(bank)
    return secret.encode() if secret else None


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def signature_valid(bank: str, body: bytes, signature: str) -> bool:
    secret = bank_secret(bank)
    if secret is None or not signature:
        return False
    return hmac.compare_digest(sign(secret, body), signature.strip().lower())
