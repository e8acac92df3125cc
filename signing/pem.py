"""PEM armour for a DER certificate (what pages and the API hand back to be saved or re-verified)."""

from __future__ import annotations

import base64
import textwrap


def certificate_pem(der: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
