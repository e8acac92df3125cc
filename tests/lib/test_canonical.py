"""lib.canonical: the bytes every stored hash is taken over must never change.

The golden values were computed with the implementations this module replaced (audit.services'
canonical_bytes and normalize_payload; the three sha256_hex of audit.evidence, now
supervision.evidence, experts.draw and bidding.crypto), so chains, announcements, draws, lotteries and
certificates already stored still verify.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy as _

from audit.services import event_hash
from bidding.land import lottery
from experts import draw
from lib.canonical import (
    canonical_bytes,
    canonical_sha256,
    canonical_value,
    file_sha256,
    sha256_hex,
)

DOCUMENT = {"z": [1, True, None, "标段一"], "a": {"b": 'x"y', "a": -3}, "金额": "100.00"}
SEED = "ab" * 32


def test_canonical_bytes_sort_keys_compact_and_utf8() -> None:
    assert canonical_bytes(DOCUMENT) == (
        b'{"a":{"a":-3,"b":"x\\"y"},"z":[1,true,null,"\xe6\xa0\x87\xe6\xae\xb5\xe4\xb8\x80"],'
        b'"\xe9\x87\x91\xe9\xa2\x9d":"100.00"}'
    )
    assert (
        canonical_sha256(DOCUMENT)
        == "5414a3ed47d4cc87f074da112895e5ff47dd80992d65924ae8d07c76467b6620"
    )


def test_canonical_value_writes_money_times_and_ids_as_text() -> None:
    at = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    value = {
        "amount": Decimal("12.50"),
        "at": at,
        "day": dt.date(2026, 2, 3),
        "id": uuid.UUID(int=7),
        "t": (1, 2),
        5: "k",
        "lazy": _("文件为空。"),
    }
    assert canonical_value(value) == {
        "amount": "12.50",
        "at": "2026-01-01T19:04:05.000006+00:00",
        "day": "2026-02-03",
        "id": "00000000-0000-0000-0000-000000000007",
        "t": [1, 2],
        "5": "k",
        "lazy": "文件为空。",
    }


@pytest.mark.parametrize("bad", [1.5, dt.datetime(2026, 1, 1), object()])
def test_canonical_value_refuses_what_would_not_round_trip(bad: object) -> None:
    with pytest.raises(TypeError):
        canonical_value({"x": bad})


def test_hashes_of_bytes_and_files() -> None:
    assert sha256_hex(b"sealed") == (
        "c9d0036bed6744bcdf692fc980d8717d7e5f5a4f4e8266b4a84982602fb1cd09"
    )
    assert file_sha256([b"sea", b"", b"led"]) == sha256_hex(b"sealed")
    assert file_sha256([]) == hashlib.sha256(b"").hexdigest()


def test_audit_event_hash_unchanged() -> None:
    assert (
        event_hash(
            seq=1,
            at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            actor_id=None,
            actor_name="clock",
            role="system",
            organization_id=None,
            ip="",
            action="trading.publish",
            object_type="trading.project",
            object_id="1",
            payload={"title": "道路工程", "amount": "5.00"},
            prev_hash="0" * 64,
        )
        == "b28961a003f2c1c135875f489615db275cb407ea816242cea8dad84dcff70513"
    )


def test_expert_draw_unchanged() -> None:
    assert draw.seed_hash(SEED) == (
        "9a2db2e23f1504cd056606553ac049c5e718e8f9ce9233876df1a7a1821af885"
    )
    assert draw.document_hash({"quotas": [{"eligible": [3, 1, 2]}]}) == (
        "cb06ff20da7992da6fb4721d58c1ebb46e12c405775ca040b5cae1315cedf53a"
    )
    picks = draw.select(
        SEED, {"quotas": [{"eligible": [5, 3, 9, 1]}]}, {"quotas": [{"count": 2}], "alternates": 1}
    )
    assert [(p.expert_id, p.role) for p in picks] == [
        (5, "member"),
        (3, "member"),
        (1, "alternate"),
    ]


def test_land_lottery_unchanged() -> None:
    assert lottery.draw(SEED, 42, [7, 3, 11]) == {
        "seed": SEED,
        "seed_hash": "9a2db2e23f1504cd056606553ac049c5e718e8f9ce9233876df1a7a1821af885",
        "candidates": [3, 7, 11],
        "candidates_hash": "bab75f34b52a449fda6ab977d292bdeb1a35ad4b52ab0c306a93afe9bcc6128b",
        "winner": 3,
    }
