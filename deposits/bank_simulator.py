"""A stand-in for the custody bank, for the demo and the tests: it builds payment notifications and
refund confirmations and signs them exactly as a bank does (deposits.bank). It is the only way the demo
"pays": the messages go through the same service (and, over HTTP, the same endpoint) as a real bank's.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from deposits.bank import canonical_message, sign
from lib.money import format_amount


@dataclass
class SignedMessage:
    bank: str
    body: bytes
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        """As Django test-client extra headers."""
        return {"HTTP_X_BANK_CODE": self.bank, "HTTP_X_BANK_SIGNATURE": self.signature}


class BankSimulator:
    def __init__(self, bank: str | None = None, secret: str | None = None) -> None:
        self.bank = bank or settings.DEPOSIT_CUSTODY_BANK
        self.secret = (
            secret if secret is not None else settings.DEPOSIT_BANK_SECRETS[self.bank]
        ).encode()

    def _signed(self, payload: dict) -> SignedMessage:
        body = canonical_message(json.dumps(payload).encode())
        return SignedMessage(self.bank, body, sign(self.secret, body))

    def payment(
        self,
        *,
        account_number: str,
        amount: Decimal | str,
        payer_name: str,
        payer_account: str,
        currency: str = "CNY",
        payer_bank: str = "中国工商银行珠海分行",
        value_time: dt.datetime | None = None,
        transaction_id: str | None = None,
        instrument_number: str | None = None,
    ) -> SignedMessage:
        """A credit to a sub-account: a transfer, or with `instrument_number` the collection of a
        cheque, draft or promissory note the center presented."""
        return self._signed(
            {
                "bank": self.bank,
                "transaction_id": transaction_id
                or f"{self.bank}{timezone.now():%Y%m%d}{secrets.token_hex(6).upper()}",
                "account_number": account_number,
                # A Decimal is written in the documented form; text goes out as given, as a
                # bank's own (possibly malformed) message would.
                "amount": format_amount(amount) if isinstance(amount, Decimal) else amount,
                "currency": currency,
                "payer_name": payer_name,
                "payer_account": payer_account,
                "payer_bank": payer_bank,
                "value_time": (value_time or timezone.now()).isoformat(),
                **({"instrument_number": instrument_number} if instrument_number else {}),
            }
        )

    def refund_confirmation(
        self, refund_id: int, *, status: str = "paid", bank_reference: str | None = None
    ) -> SignedMessage:
        return self._signed(
            {
                "bank": self.bank,
                "refund_id": refund_id,
                "status": status,
                "bank_reference": bank_reference
                or f"RF{refund_id:08d}{secrets.token_hex(3).upper()}",
            }
        )
