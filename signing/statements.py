"""The statement a signer signs: canonical JSON (`lib.canonical.canonical_bytes`) of

    {"platform": "bidhall", "version": 1,
     "act": "bid.submit", "act_label": "提交投标文件",
     "target": {"type": "trading.lot", "id": 42},
     "digest": "<SHA-256 hex of the document, or "">",
     "details": {"text": "…"},
     "signer": {"user": "<username>", "name": "<display name>",
                "organization_uscc": "<统一社会信用代码>" (null for a person certificate),
                "certificate_sha256": "<hex>"},
     "asked_at": "2026-12-05T16:30:00.123456+08:00",
     "challenge": "<token>"}

`SigningChallenge.statement` holds this text and the signature is over its UTF-8 bytes, so anyone can
re-verify a `SignedAct` from the stored statement, signature and certificate alone. The act label is
Chinese whatever language the signer reads; `asked_at` is the server time in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from lib.canonical import canonical_bytes
from signing.acts import ACTS, ActSpec
from signing.models import Certificate

PLATFORM = "bidhall"
VERSION = 1
SHANGHAI = ZoneInfo("Asia/Shanghai")


def normalize_details(details: Mapping[str, str] | None) -> dict[str, str]:
    """Details as signed and compared: text with CRLF (or a lone CR) line ends as LF, so a browser's
    form text and the same text sent from elsewhere are one statement."""
    return {
        key: value.replace("\r\n", "\n").replace("\r", "\n")
        for key, value in (details or {}).items()
    }


def compose(
    *,
    spec: ActSpec,
    target_type: str,
    target_id: int,
    digest: str,
    details: Mapping[str, str],
    user: User,
    certificate: Certificate,
    asked_at: dt.datetime,
    challenge: str,
) -> str:
    """The exact text to sign (see the module docstring)."""
    organization_uscc = (
        certificate.organization.uscc
        if certificate.kind != Certificate.Kind.PERSON and certificate.organization is not None
        else None
    )
    statement: dict[str, Any] = {
        "platform": PLATFORM,
        "version": VERSION,
        "act": spec.name,
        "act_label": spec.chinese_label(),
        "target": {"type": target_type, "id": target_id},
        "digest": digest,
        "details": normalize_details(details),
        "signer": {
            "user": user.username,
            "name": str(user),
            "organization_uscc": organization_uscc,
            "certificate_sha256": certificate.sha256,
        },
        "asked_at": asked_at.astimezone(SHANGHAI).isoformat(timespec="microseconds"),
        "challenge": challenge,
    }
    return canonical_bytes(statement).decode()


def parse(statement: str) -> dict[str, Any]:
    """A stored statement read back (for pages that show it in words)."""
    value: dict[str, Any] = json.loads(statement)
    return value


DETAIL_LABELS = {"text": gettext_lazy("附加说明")}


def describe(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The statement in words for the person about to sign it (or reading it later), in the reader's
    language: what they sign, on what, the document hash, their text, their certificate, the time."""
    spec = ACTS.get(str(statement.get("act", "")))
    target = statement.get("target") or {}
    signer = statement.get("signer") or {}
    lines = [
        (_("签署行为"), str(spec.label) if spec else str(statement.get("act", ""))),
        (_("签署对象"), f"{target.get('type', '')} #{target.get('id', '')}"),
    ]
    digest = statement.get("digest")
    if digest:
        what = str(spec.digest) if spec and spec.digest else _("文件")
        lines.append((_("%(what)s SHA-256") % {"what": what}, str(digest)))
    for key, value in (statement.get("details") or {}).items():
        lines.append((str(DETAIL_LABELS.get(key, key)), str(value)))
    lines += [
        (_("签名人"), f"{signer.get('name', '')} ({signer.get('user', '')})"),
        (_("证书指纹 SHA-256"), str(signer.get("certificate_sha256", ""))),
    ]
    if signer.get("organization_uscc"):
        lines.append((_("统一社会信用代码"), str(signer["organization_uscc"])))
    lines.append((_("申请签名时间"), str(statement.get("asked_at", ""))))
    return lines
