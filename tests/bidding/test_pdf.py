"""The bidding PDFs: the receipt (回执) with server time, ciphertext and receipt hashes and no price; the
opening record (开标记录) with its SHA-256; the award notice (中标通知书) with a recomputable content hash.
Chinese extracts (embedded font), and nothing is rendered inside a transaction."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from bidding import pdf
from bidding.models import Opening, Publicity
from lib.canonical import canonical_sha256
from tests.bidding.world import PRICES, build, price_texts
from tests.pdfsigned import assert_platform_signed

pytestmark = pytest.mark.django_db


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def flat(text: str) -> str:
    return re.sub(r"\s*\n\s*", "", text)


def fonts_of(content: bytes) -> list[tuple[str, bool]]:
    fonts = []
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            fonts.append((str(font["/BaseFont"]), "/FontFile2" in descriptor))
    return fonts


@pytest.fixture
def site(settings):
    settings.SITE_URL = "https://ggzy.example.cn"


def test_the_receipt_states_server_time_and_hashes_never_the_price(users, site):
    files = [SimpleUploadedFile("技术标.pdf", b"%PDF 34876543.21")]
    world = build(users, "bidding", files=files)
    bid = world.bid("owner")
    with world.at():
        response = world.client("owner").get(reverse("bid_receipt_pdf", args=[world.lot.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    assert_platform_signed(response.content)
    text = flat(text_of(response.content))
    assert "投标文件递交回执" in text and "甲建设公司" in text and world.project.number in text
    submitted = timezone.localtime(bid.submitted_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"服务器递交时间{submitted}（北京时间）" in text
    for digest in (bid.receipt_sha256, bid.sealed_sha256, bid.files.get().sha256):
        assert digest in text
    assert not [p for p in price_texts(*PRICES.values()) if p in text]
    assert all(embedded for _name, embedded in fonts_of(response.content))
    # The hash it prints is the hash of the document it describes.
    assert pdf.receipt_sha256(bid) == bid.receipt_sha256


def test_the_opening_record_pdf_carries_the_record_hash(users, site):
    world = build(users, "opened")
    opening = Opening.objects.get()
    with world.at():
        response = world.client("anonymous").get(reverse("opening_record_pdf", args=[world.lot.pk]))
    assert response.status_code == 200
    assert_platform_signed(response.content)
    text = flat(text_of(response.content))
    assert "开标记录" in text and "开标完成" in text
    assert opening.record_sha256 in text
    for price in PRICES.values():
        assert f"{Decimal(price):,.2f}" in text
    assert canonical_sha256(opening.record) == opening.record_sha256
    assert f"https://ggzy.example.cn/bidding/lots/{world.lot.pk}/record/" in text


def test_the_award_notice_names_the_winner_and_its_hash(users, site):
    world = build(users, "awarded")
    publicity = Publicity.objects.get()
    with world.at():
        response = world.client("owner").get(reverse("award_notice_pdf", args=[world.lot.pk]))
    assert response.status_code == 200
    assert_platform_signed(response.content)
    text = flat(text_of(response.content))
    assert "中标通知书" in text and "甲建设公司" in text and "34,876,543.21" in text
    assert "三十日内" in text
    digest = canonical_sha256(pdf.award_content(publicity))
    assert digest in text and digest == pdf.award_sha256(publicity)
    assert all(embedded for _name, embedded in fonts_of(response.content))


@pytest.mark.django_db(transaction=True)
def test_pdfs_are_rendered_outside_any_transaction(users, monkeypatch, site):
    world = build(users, "awarded")
    seen: list[bool] = []
    real_build = pdf.build_pdf

    def spy(*args, **kwargs):
        seen.append(connection.in_atomic_block)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(pdf, "build_pdf", spy)
    with world.at():
        for name in ("bid_receipt_pdf", "opening_record_pdf", "award_notice_pdf"):
            response = world.client("owner").get(reverse(name, args=[world.lot.pk]))
            assert response.status_code == 200, name
    assert seen == [False, False, False]
