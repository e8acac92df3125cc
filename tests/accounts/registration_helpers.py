"""Shared by the self-registration tests: a form body, a licence file, the links in sent mail."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import make_uscc

PASSWORD = "Zh4ng-tou-biao-2026"


def license_file(name: str = "license.pdf", content: bytes = b"%PDF-1.7\n% licence\n") -> Any:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def registration_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "uscc": make_uscc(),
        "name": "珠海自助建设有限公司",
        "kind": "supplier",
        "legal_representative": "王法人",
        "basic_account_bank": "中国工商银行珠海分行",
        "basic_account_number": "2002020209100012345",
        "region": "440402",
        "contact_name": "李联系",
        "contact_email": "contact@example.cn",
        "contact_phone": "13800138000",
        "username": "selfreg",
        "password": PASSWORD,
        "display_name": "李联系",
        "license": license_file(),
    }
    body.update(overrides)
    return body


def token_in_mail(to: str, path: str) -> str:
    """The token of the last link to `path` mailed to `to`."""
    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(re.escape(path) + r"\?token=(\S+)", str(message.body))
            if found:
                return unquote(found.group(1))
    raise AssertionError(f"no mail to {to} with a link to {path}")


def link_in_mail(to: str, pattern: str) -> str:
    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(pattern, str(message.body))
            if found:
                return found.group(0)
    raise AssertionError(f"no mail to {to} matching {pattern}")
