"""The bid commitment (投标承诺值): what a bidder signs when it submits or modifies a sealed bid.

The price is sealed the moment it arrives, so the statement a bidder signs cannot name it. It names
a commitment to it instead, the SHA-256 (lowercase hex) of the UTF-8 text

    "bidhall-bid-v1\\n" + price + "\\n" + nonce + "\\n" + "\\n".join(file SHA-256s)

- `price`: the price as the platform reads it (`lib.money.parse_amount`), in its canonical form with
  two decimals (`format_amount`: "8600000.00");
- `nonce`: 32 random bytes the bidder's client chooses, as 64 lowercase hex digits (wire field
  `bid_nonce`), so nobody can try prices against the commitment; it is sealed with the price and
  read only at the opening;
- each uploaded file's SHA-256 (lowercase hex of its plaintext bytes), in upload order (no file: the
  text ends with the nonce's line break).

The browser computes the same text (static/js/signing.js, `data-sign-commitment`). At the opening the
decrypted price, nonce and files must reproduce the commitment (`Bid.commitment_opens`), and the
outcome is kept on the bid (`Bid.commitment_opened`)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from lib.canonical import sha256_hex
from lib.errors import DomainError
from lib.money import format_amount

PREFIX = "bidhall-bid-v1"
_NONCE = re.compile(r"[0-9a-f]{64}")


def new_nonce() -> str:
    return secrets.token_hex(32)


def clean_nonce(nonce: object) -> str:
    """A client's nonce: 64 lowercase hex digits; a new random one when none was sent (an unsigned
    submission under the development fallback)."""
    if nonce is None or nonce == "":
        return new_nonce()
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise DomainError(
            _("bid_nonce 须为 64 位小写十六进制数（32 个随机字节）。"), code="BID_NONCE_INVALID"
        )
    return nonce


def commitment_text(price: Decimal | str, nonce: str, file_sha256s: Sequence[str]) -> str:
    price_text = format_amount(price) if isinstance(price, Decimal) else price
    return f"{PREFIX}\n{price_text}\n{nonce}\n" + "\n".join(file_sha256s)


def bid_commitment(price: Decimal | str, nonce: str, file_sha256s: Sequence[str]) -> str:
    return sha256_hex(commitment_text(price, nonce, file_sha256s).encode())
