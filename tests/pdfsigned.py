"""What every PDF a party relies on must be when it is served: signed once by the platform's document
certificate, the signature intact and covering the whole file, over the document as rendered."""

from __future__ import annotations

from lib.pdfsign import PdfSignatureCheck, unsigned_revision, verify_pdf


def assert_platform_signed(content: bytes) -> PdfSignatureCheck:
    check = verify_pdf(content)
    assert check.ok, check.problems
    assert check.intact and check.whole_file and check.platform
    # The signature was appended after reportlab's document, which stays unchanged in front of it.
    rendered = unsigned_revision(content)
    assert len(rendered) < len(content) and content.startswith(rendered)
    return check
