"""The award notice (中标通知书): what it states and the hash of that — printed by its PDF
(`bidding.pdf.render_award_notice`) and signed by the winner when it accepts the award (act
award.accept, `bidding.evaluation.accept_award`). Strings only, canonical JSON (`lib.canonical`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from bidding import access
from bidding.models import Publicity
from lib.canonical import canonical_sha256
from lib.pdf import SHANGHAI


def _iso(moment: dt.datetime | None) -> str:
    return timezone.localtime(moment, SHANGHAI).isoformat() if moment else ""


def award_url(publicity: Publicity) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("bidding_lot", args=[publicity.lot_id])


def award_content(publicity: Publicity) -> dict[str, Any]:
    """What the award notice states (strings only)."""
    lot = publicity.lot
    project = lot.project
    winner = access.winner_row(publicity) or {}
    org = publicity.winner
    return {
        "document": "award_notice",
        "project": {"number": project.number, "title": project.title},
        "lot": {"number": str(lot.number), "name": lot.name},
        "owner": {"name": project.owner.name, "uscc": project.owner.uscc},
        "agent": {"name": project.agent.name, "uscc": project.agent.uscc},
        "winner": {"name": org.name if org else "", "uscc": org.uscc if org else ""},
        "price": str(winner.get("price", "")),
        "rank": str(winner.get("rank", "")),
        "issued_at": _iso(publicity.award_notice_at),
        "contract_due_at": _iso(publicity.contract_due_at),
        "url": award_url(publicity),
    }


def award_sha256(publicity: Publicity) -> str:
    return canonical_sha256(award_content(publicity))
