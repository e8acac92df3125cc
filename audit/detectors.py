"""Collusion and irregularity signals, evaluated as events happen and raised as supervisor alerts in the
transaction of their cause (`audit.alerts.raise_alert`). Each signal is raised once per situation.

- one payer account behind two bidders' deposits — when a deposit arrives
  (`deposits.services._check_shared_payer`);
- different bidders from one IP address — a sealed bid is submitted
  (`bidding.services._collusion_signals`), a batch of auction bids commits
  (`bidding.auction.addresses.shared_ip_signals`): `shared_ip`;
- identical bid documents (keyed fingerprint of the plaintext, `bidding.crypto.document_fingerprint`)
  — a sealed bid is submitted: `same_documents`;
- a winner who keeps beating the same losers — an award is issued, a land deal is made: `rotation`
  (the caller passes the earlier wins);
- an expert's score far from the committee median — the report is compiled: `score_outliers` (the
  caller passes which scores deviate);
- an overdue refund — the clock's daily check (`deposits.tasks`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from audit.alerts import raise_alert
from audit.models import Alert
from audit.services import AuditActor

# A winner that beat at least ROTATION_MIN_SHARED of the same losers in ROTATION_MIN_TIMES trades
# (this one included) is flagged.
ROTATION_MIN_TIMES = 3
ROTATION_MIN_SHARED = 2


def _already(kind: str, project_id: int | None, key: str) -> bool:
    return Alert.objects.filter(kind=kind, project_id=project_id, details__key=key).exists()


def shared_ip(
    actor: AuditActor,
    *,
    project_id: int,
    lot_id: int,
    ip: str,
    organizations: set[int],
    where: str,
) -> Alert | None:
    """Different bidders on one lot acting from one IP address (条例 Art.40: 视为串通投标的情形)."""
    if not ip or len(organizations) < 2:
        return None
    key = f"{where}:{lot_id}:{ip}"
    if _already(Alert.Kind.SAME_IP, project_id, key):
        return None
    return raise_alert(
        actor,
        Alert.Kind.SAME_IP,
        summary=f"{len(organizations)} 家投标人从同一 IP 地址 {ip} 操作（{where}）",
        details={"key": key, "lot": lot_id, "ip": ip, "organizations": sorted(organizations)},
        project_id=project_id,
    )


def same_documents(
    actor: AuditActor, *, project_id: int, lot_id: int, organizations: set[int], fingerprint: str
) -> Alert | None:
    key = f"{lot_id}:{fingerprint}:{'-'.join(map(str, sorted(organizations)))}"
    if len(organizations) < 2 or _already(Alert.Kind.SAME_DOCUMENT, project_id, key):
        return None
    return raise_alert(
        actor,
        Alert.Kind.SAME_DOCUMENT,
        summary=f"{len(organizations)} 家投标人的投标文件内容相同",
        details={"key": key, "lot": lot_id, "organizations": sorted(organizations)},
        project_id=project_id,
    )


def rotation(
    actor: AuditActor,
    *,
    project_id: int,
    winner: int,
    losers: set[int],
    past_wins: list[tuple[int, set[int]]],
) -> Alert | None:
    """The same winner over the same losers again and again (a rotation or cover-bidding ring).

    `past_wins` is (project, losers) of every trade the winner won, as the caller reads them
    (`bidding.history.past_wins`)."""
    repeats = [
        (project, shared)
        for project, past_losers in past_wins
        if project != project_id and len(shared := losers & past_losers) >= ROTATION_MIN_SHARED
    ]
    if len(repeats) + 1 < ROTATION_MIN_TIMES:
        return None
    key = f"{winner}:{project_id}"
    if _already(Alert.Kind.ROTATION, project_id, key):
        return None
    return raise_alert(
        actor,
        Alert.Kind.ROTATION,
        summary=f"同一中标人第 {len(repeats) + 1} 次胜过同一批投标人",
        details={
            "key": key,
            "winner": winner,
            "losers": sorted(losers),
            "earlier_projects": sorted({p for p, _ in repeats}),
        },
        project_id=project_id,
    )


def score_outliers(
    actor: AuditActor,
    *,
    project_id: int,
    lot_id: int,
    scores: dict[int, dict[int, Decimal]],
    outliers: dict[int, set[int]],
) -> list[Alert]:
    """Per bid, members (expert ids) whose technical score lies far from the committee's median.

    `scores` is bid → member → technical score; `outliers` is bid → the members the caller found far
    from the median (`experts.services.deviating_scores`)."""
    alerts = []
    for bid, by_member in scores.items():
        for member in sorted(outliers.get(bid, set())):
            key = f"{lot_id}:{bid}:{member}"
            if _already(Alert.Kind.SCORE_OUTLIER, project_id, key):
                continue
            values: dict[str, Any] = {str(m): str(s) for m, s in by_member.items()}
            alerts.append(
                raise_alert(
                    actor,
                    Alert.Kind.SCORE_OUTLIER,
                    summary="专家评分明显偏离委员会中位数",
                    details={
                        "key": key,
                        "lot": lot_id,
                        "bid": bid,
                        "expert": member,
                        "scores": values,
                    },
                    project_id=project_id,
                )
            )
    return alerts
