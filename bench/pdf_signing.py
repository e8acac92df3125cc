"""What the platform's PAdES signature adds to a PDF: render alone vs render + sign, for a tender
announcement and an opening record, median of N runs each, plus signing and checking on their own.

No database: the documents are drawn from unsaved model instances shaped like real ones (a three-lot
tender with a long body, an opening record of eight bids). Rendering without the signature is the same
code with `lib.pdf.sign_pdf` swapped for the identity. The key is the development pair (ECDSA P-256,
what production is expected to use) or, with `--rsa`, a fresh RSA-2048 key.

    .venv/bin/python bench/pdf_signing.py [--runs 30] [--rsa]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rsa", action="store_true", help="sign with a fresh RSA-2048 key")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.conf import settings

    import lib.pdf
    from bidding.models import Opening
    from bidding.pdf import render_record
    from lib.pdfkeys import self_signed
    from lib.pdfsign import sign_pdf, verify_pdf
    from trading.models import Announcement, AnnouncementVersion, Lot, Project
    from trading.pdf import render_announcement_pdf

    if args.rsa:
        now = dt.datetime.now(dt.UTC)
        pair = self_signed(
            "bidhall benchmark RSA-2048",
            not_before=now - dt.timedelta(days=1),
            not_after=now + dt.timedelta(days=30),
            key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        )
        settings.PDF_SIGNING_KEY = pair.key_pem().decode()
        settings.PDF_SIGNING_CERTIFICATE = pair.chain_pem().decode()

    now = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
    body = "\n\n".join(
        f"第{i}条：投标人应当按照招标文件的要求编制投标文件，并对其真实性、合法性负责。" * 4
        for i in range(1, 13)
    )
    content = {
        "announcement": {"kind": "tender"},
        "project": {
            "number": "BH2026CO00001",
            "title": "珠海市第一中学教学楼改造工程",
            "kind": "construction",
            "method": "open",
            "owner": {"name": "珠海市第一中学", "uscc": "12440400455860000X"},
            "agent": {"name": "珠海市招标代理有限公司", "uscc": "91440400MA4UQ1234X"},
            "lots": [
                {
                    "number": n,
                    "name": f"第{n}标段 教学楼改造",
                    "estimate": "12000000.00",
                    "ceiling_price": "11800000.00",
                    "deposit_amount": "200000.00",
                    "deposit_forms": ["cash", "guarantee"],
                }
                for n in (1, 2, 3)
            ],
            "timeline": {"bid_deadline": now.isoformat(), "documents_until": now.isoformat()},
            "documents": [
                {"title": f"招标文件第{n}册.pdf", "size": 2_400_000, "sha256": "ab" * 32}
                for n in (1, 2, 3)
            ],
        },
    }
    version = AnnouncementVersion(
        announcement=Announcement(pk=1, kind="tender"),
        number=1,
        title="珠海市第一中学教学楼改造工程招标公告",
        body=body,
        content=content,
        sha256="cd" * 32,
        published_at=now,
    )
    project = Project(pk=1, number="BH2026CO00001", title="珠海市第一中学教学楼改造工程")
    lot = Lot(pk=1, project=project, number=1, name="教学楼改造", ceiling_price=Decimal("11800000"))
    opening = Opening(
        lot=lot,
        stage=Opening.Stage.OPENED,
        started_at=now,
        decryption_until=now + dt.timedelta(hours=1),
        finished_at=now + dt.timedelta(hours=1),
        record={
            "bids": [
                {
                    "bidder": f"珠海第{i}建设工程有限公司",
                    "uscc": f"9144040000000000{i}X",
                    "submitted_at": now.isoformat(),
                    "status": "decrypted",
                    "price": f"{11_000_000 + i * 12_345}.00",
                }
                for i in range(1, 9)
            ]
        },
        record_sha256="ef" * 32,
    )
    documents: dict[str, Callable[[], bytes]] = {
        "announcement": lambda: render_announcement_pdf(version),
        "opening record": lambda: render_record(opening),
    }

    real_sign = lib.pdf.sign_pdf

    def unsigned_render(render: Callable[[], bytes]) -> bytes:
        lib.pdf.sign_pdf = lambda pdf, **_: pdf
        try:
            return render()
        finally:
            lib.pdf.sign_pdf = real_sign

    def timed(action: Callable[[], object]) -> float:
        start = time.perf_counter()
        action()
        return (time.perf_counter() - start) * 1000

    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs")
    print(f"key: {'RSA-2048' if args.rsa else 'ECDSA P-256 (development pair)'}, runs: {args.runs}")
    print(
        "medians in ms; plain and signed renders alternate, so load from elsewhere hits both alike"
    )
    for name, render in documents.items():
        render()  # warm: fonts, the signer, imports
        unsigned, signed = unsigned_render(render), render()
        times: dict[str, list[float]] = {"plain": [], "signed": [], "sign": [], "verify": []}
        for _ in range(args.runs):
            times["plain"].append(timed(lambda: unsigned_render(render)))  # noqa: B023
            times["signed"].append(timed(render))
            times["sign"].append(timed(lambda: sign_pdf(unsigned, reason="bench")))  # noqa: B023
            times["verify"].append(timed(lambda: verify_pdf(signed)))  # noqa: B023
        plain, signed_ms, sign_only, check = (statistics.median(t) for t in times.values())
        print(
            f"{name:15s} render {plain:6.1f} | render+sign {signed_ms:6.1f} "
            f"(+{signed_ms - plain:5.1f}, {100 * (signed_ms - plain) / plain:+.0f}%) | "
            f"sign alone {sign_only:5.1f} | verify {check:5.1f} | "
            f"{len(unsigned) / 1024:.1f} KB -> {len(signed) / 1024:.1f} KB"
        )
    print(
        f"rerun: .venv/bin/python bench/pdf_signing.py --runs {args.runs}" + (" --rsa" * args.rsa)
    )


if __name__ == "__main__":
    main()
