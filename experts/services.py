"""Expert pool, verifiable draws with avoidance, confirmations, disclosure and ratings.

A draw is run in two steps so that nobody — staff included — can steer it or know it in advance:
1. `commit_draw` freezes the eligible pool (with every exclusion and its reason), hashes the request,
   and fixes a secret seed whose SHA-256 the supervisor present sees; the seed itself is stored only
   sealed to the project key (as the land reserve is), so database read access does not reveal it;
2. `run_draw` opens the seal, applies `experts.draw.select` and reveals the seed. `verify_draw`
   recomputes it and holds the row against the commit and draw events of the audit chain.
"""

from __future__ import annotations

import datetime as dt
import secrets
import statistics
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.actors import Actor
from accounts.models import Organization, Role, User
from accounts.permissions import has_perm, require_perm
from accounts.tokens import TokenRefused, absolute, make_token, read_token
from audit.models import AuditEvent
from audit.services import VERIFY_FIELDS, record, row_hash
from experts import draw as drawing
from experts.keys import SealBroken, project_keys
from experts.models import (
    DrawExclusion,
    DrawnExpert,
    DrawRequest,
    Employment,
    Expert,
    Rating,
    Relation,
    Specialty,
)
from experts.rules import BIDDER_TIE_YEARS, check_committee, earliest_gp_draw
from lib.errors import Conflict, DomainError, NotPermitted
from notifications.services import moment_text, notify
from trading.models import Lot, Project, Registration

# --- The pool -------------------------------------------------------------------------------------


def add_expert(
    actor: Actor,
    *,
    name: str,
    title: str,
    years_in_field: int,
    region: str,
    specialties: list[str],
    employer: Organization | None = None,
    user: Any = None,
    phone: str = "",
) -> Expert:
    require_perm(actor, "experts.manage_pool")
    if title not in Expert.Title.values:
        raise DomainError(_("无效的职称。"), code="INVALID_TITLE")
    if years_in_field < 8:
        # 评标委员会和评标方法暂行规定: experts have worked in the field for at least 8 years.
        raise DomainError(_("评标专家须从事相关领域工作满八年。"), code="TOO_FEW_YEARS")
    codes = list(Specialty.objects.filter(code__in=specialties))
    if not codes or len(codes) != len(set(specialties)):
        raise DomainError(_("请填写有效的专业代码。"), code="INVALID_SPECIALTY")
    with transaction.atomic():
        expert = Expert.objects.create(
            name=name.strip(),
            title=title,
            years_in_field=years_in_field,
            region=region,
            employer=employer,
            user=user,
            phone=phone,
        )
        expert.specialties.set(codes)
        if employer is not None:
            Employment.objects.create(
                expert=expert, organization=employer, start=timezone.localdate()
            )
        record(
            actor,
            "experts.expert.added",
            expert,
            {
                "name": expert.name,
                "specialties": sorted(specialties),
                "region": region,
                "employer": employer.pk if employer else None,
            },
        )
    return expert


def declare_tie(
    actor: Actor,
    expert: Expert,
    organization: Organization,
    *,
    role: str,
    start: dt.date,
    end: dt.date | None = None,
) -> Employment:
    require_perm(actor, "experts.manage_pool")
    if role not in Employment.Role.values:
        raise DomainError(_("无效的关系类型。"), code="INVALID_ROLE")
    with transaction.atomic():
        tie = Employment.objects.create(
            expert=expert, organization=organization, role=role, start=start, end=end
        )
        record(
            actor,
            "experts.tie.declared",
            expert,
            {"organization": organization.pk, "role": role, "start": start, "end": end},
        )
    return tie


def declare_relation(
    actor: Actor,
    expert: Expert,
    organization: Organization,
    *,
    kind: str,
    person_name: str = "",
    description: str = "",
) -> Relation:
    require_perm(actor, "experts.manage_pool")
    if kind not in Relation.Kind.values:
        raise DomainError(_("无效的关系类型。"), code="INVALID_KIND")
    with transaction.atomic():
        relation = Relation.objects.create(
            expert=expert,
            organization=organization,
            kind=kind,
            person_name=person_name.strip(),
            description=description.strip(),
        )
        record(
            actor,
            "experts.relation.declared",
            expert,
            {"organization": organization.pk, "kind": kind, "person": relation.person_name},
        )
    return relation


def set_status(
    actor: Actor, expert: Expert, *, status: str, until: dt.date | None, reason: str
) -> Expert:
    require_perm(actor, "experts.manage_pool")
    if status not in Expert.Status.values:
        raise DomainError(_("无效的状态。"), code="INVALID_STATUS")
    with transaction.atomic():
        locked = Expert.objects.select_for_update().get(pk=expert.pk)
        return _set_status(actor, locked, status=status, until=until, reason=reason)


def _set_status(
    actor: Actor, expert: Expert, *, status: str, until: dt.date | None, reason: str
) -> Expert:
    before = expert.status
    expert.status, expert.status_until, expert.status_reason = status, until, reason.strip()
    expert.save(update_fields=["status", "status_until", "status_reason"])
    record(
        actor,
        "experts.expert.status",
        expert,
        {"from": before, "to": status, "until": until, "reason": expert.status_reason},
    )
    return expert


# --- Who may sit on this committee ----------------------------------------------------------------


def _bidders(project: Project, lot: Lot | None) -> set[int]:
    registrations = Registration.objects.filter(project=project)
    if lot is not None:
        registrations = registrations.filter(lot=lot)
    return set(registrations.values_list("organization_id", flat=True))


def _active_on(expert: Expert, day: dt.date) -> bool:
    if expert.status == Expert.Status.ACTIVE:
        return True
    return expert.status_until is not None and expert.status_until < day


def _in_region(region: str, allowed: list[str], excluded: list[str]) -> bool:
    if allowed and not any(region.startswith(prefix) for prefix in allowed):
        return False
    return not any(region.startswith(prefix) for prefix in excluded)


def eligibility(
    project: Project,
    lot: Lot | None,
    quotas: list[dict[str, Any]],
    *,
    evaluation_at: dt.datetime,
    allowed_regions: list[str],
    excluded_regions: list[str],
    already_drawn: set[int] | None = None,
) -> tuple[dict[str, Any], dict[int, list[str]]]:
    """The pool snapshot ({"quotas": [{"specialty", "eligible": [ids]}]}) and {expert id: [reasons]}
    for every expert of a requested specialty who was left out."""
    day = timezone.localtime(evaluation_at).date()
    tie_since = day.replace(year=day.year - BIDDER_TIE_YEARS)
    bidders = _bidders(project, lot)
    parties = {project.owner_id, project.agent_id}
    window_start = evaluation_at - dt.timedelta(days=settings.EXPERT_SAME_OWNER_DAYS)

    specialty_filter = Q()
    for quota in quotas:
        specialty_filter |= Q(specialties__code__startswith=quota["specialty"])
    candidates = list(
        Expert.objects.filter(specialty_filter)
        .distinct()
        .select_related("employer")
        .prefetch_related("specialties", "employments", "relations")
    )
    frequent: dict[int, int] = defaultdict(int)
    if settings.EXPERT_SAME_OWNER_MAX_DRAWS:
        seated = DrawnExpert.objects.filter(
            seated=True,
            draw__project__owner_id=project.owner_id,
            draw__evaluation_at__gte=window_start,
            draw__status__in=[DrawRequest.Status.DRAWN, DrawRequest.Status.SIGNED_OFF],
        ).values_list("expert_id", flat=True)
        for expert_id in seated:
            frequent[expert_id] += 1

    reasons: dict[int, list[str]] = {}
    for expert in candidates:
        why: list[str] = []
        if not _active_on(expert, day):
            why.append("NOT_ACTIVE")
        ties = [e for e in expert.employments.all() if e.end is None or e.end >= tie_since]
        if any(t.organization_id in bidders for t in ties):
            why.append("BIDDER_TIE")
        if any(r.organization_id in bidders for r in expert.relations.all()):
            why.append("BIDDER_RELATIVE")
        current = {t.organization_id for t in ties if t.end is None or t.end >= day}
        if expert.employer_id:
            current.add(expert.employer_id)
        if current & parties:
            why.append("OWNER_OR_AGENT_STAFF")
        if expert.employer is not None and expert.employer.kind == Organization.Kind.REGULATOR:
            why.append("REGULATOR_STAFF")
        if not _in_region(expert.region, allowed_regions, excluded_regions):
            why.append("REGION")
        if (
            settings.EXPERT_SAME_OWNER_MAX_DRAWS
            and frequent[expert.pk] >= settings.EXPERT_SAME_OWNER_MAX_DRAWS
        ):
            why.append("FREQUENT_SAME_OWNER")
        if already_drawn and expert.pk in already_drawn:
            why.append("ALREADY_DRAWN")
        if why:
            reasons[expert.pk] = why
    quota_pools: list[dict[str, Any]] = []
    for quota in quotas:
        eligible = sorted(
            e.pk
            for e in candidates
            if e.pk not in reasons
            and any(s.code.startswith(quota["specialty"]) for s in e.specialties.all())
        )
        quota_pools.append({"specialty": quota["specialty"], "eligible": eligible})
    return {"quotas": quota_pools}, reasons


# --- The draw -------------------------------------------------------------------------------------


def _clean_quotas(quotas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    clean = []
    for quota in quotas or []:
        code = str(quota.get("specialty", "")).strip()
        count = quota.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1 or not code:
            raise DomainError(_("专业配额格式错误。"), code="INVALID_QUOTA")
        if not Specialty.objects.filter(code__startswith=code).exists():
            raise DomainError(
                _("没有专业代码 %(specialty)s。"), code="INVALID_SPECIALTY", specialty=code
            )
        clean.append({"specialty": code, "count": count})
    if not clean:
        raise DomainError(_("至少需要一个专业配额。"), code="INVALID_QUOTA")
    return clean


def commit_draw(
    actor: Actor,
    project: Project,
    *,
    evaluation_at: dt.datetime,
    committee_size: int,
    quotas: list[dict[str, Any]],
    owner_representatives: int = 0,
    alternates: int = 2,
    panel: str = DrawRequest.Panel.COMMITTEE,
    lot: Lot | None = None,
    allowed_regions: list[str] | None = None,
    excluded_regions: list[str] | None = None,
    supervisor: Any = None,
    replaces_in: DrawRequest | None = None,
) -> DrawRequest:
    """Check the committee rules, freeze the eligible pool and commit to a secret seed."""
    require_perm(actor, "experts.request_draw")
    quotas = _clean_quotas(quotas)
    now = timezone.now()
    gp = project.kind == Project.Kind.GOVERNMENT_PROCUREMENT
    if replaces_in is None:
        budget = (
            sum((each.estimate for each in project.lots.all()), Decimal("0"))
            if lot is None
            else lot.estimate
        )
        check_committee(
            panel=panel,
            size=committee_size,
            owner_representatives=owner_representatives,
            expert_count=sum(q["count"] for q in quotas),
            alternates=alternates,
            gp=gp,
            budget=budget,
        )
    if evaluation_at <= now:
        raise DomainError(_("评标时间须晚于抽取时间。"), code="EVALUATION_IN_PAST")
    if gp and now < earliest_gp_draw(evaluation_at):
        raise DomainError(
            _("政府采购项目不得早于评审前 %(days)s 个工作日抽取专家。"),
            code="DRAW_TOO_EARLY",
            days=settings.EXPERT_GP_DRAW_WORKING_DAYS,
        )
    if supervisor is not None and supervisor.role != Role.SUPERVISOR:
        raise DomainError(_("现场监督须为监督人员。"), code="INVALID_SUPERVISOR")
    allowed_regions, excluded_regions = list(allowed_regions or []), list(excluded_regions or [])
    already = (
        set(
            DrawnExpert.objects.filter(
                Q(draw=replaces_in) | Q(draw__replaces_in=replaces_in)
            ).values_list("expert_id", flat=True)
        )
        if replaces_in is not None
        else None
    )
    pool, reasons = eligibility(
        project,
        lot,
        quotas,
        evaluation_at=evaluation_at,
        allowed_regions=allowed_regions,
        excluded_regions=excluded_regions,
        already_drawn=already,
    )
    for quota, entry in zip(quotas, pool["quotas"], strict=True):
        if len(entry["eligible"]) < quota["count"]:
            raise DomainError(
                _("专业 %(specialty)s 符合条件的专家不足（需 %(need)s 人，仅 %(have)s 人）。"),
                code="POOL_TOO_SMALL",
                specialty=quota["specialty"],
                need=quota["count"],
                have=len(entry["eligible"]),
            )
    seed = secrets.token_hex(32)
    with transaction.atomic():
        draw = DrawRequest(
            project=project,
            lot=lot,
            replaces_in=replaces_in,
            panel=panel,
            committee_size=committee_size,
            owner_representatives=owner_representatives,
            quotas=quotas,
            alternates=alternates,
            allowed_regions=allowed_regions,
            excluded_regions=excluded_regions,
            evaluation_at=evaluation_at,
            requested_by=actor.user,
            supervisor=supervisor,
            committed_at=now,
            pool=pool,
            pool_hash=drawing.document_hash(pool),
            sealed_seed=_seal_seed(project, seed),
            seed_hash=drawing.seed_hash(seed),
            request_hash="",
        )
        draw.save()
        # The request hash covers the draw's own id, so a record cannot be replayed for another draw.
        draw.request_hash = drawing.document_hash(draw.request_document())
        draw.save(update_fields=["request_hash"])
        DrawExclusion.objects.bulk_create(
            [
                DrawExclusion(draw=draw, expert_id=expert_id, reasons=why)
                for expert_id, why in sorted(reasons.items())
            ]
        )
        record(
            actor,
            "experts.draw.committed",
            draw,
            {
                "project": project.pk,
                "lot": lot.pk if lot else None,
                "request_hash": draw.request_hash,
                "pool_hash": draw.pool_hash,
                "seed_hash": draw.seed_hash,
                "excluded": len(reasons),
                "replaces_in": replaces_in.pk if replaces_in else None,
            },
        )
    return draw


def _seal_seed(project: Project, seed: str) -> bytes:
    return project_keys().seal(project, seed.encode())


def _open_seed(draw: DrawRequest) -> str:
    """The one place a sealed seed is opened: the draw itself, which reveals it in the same
    transaction. A seed that does not open, or does not match its commitment, stops the draw."""
    try:
        seed = project_keys().open(draw.project_id, draw.sealed_seed).decode()
    except (SealBroken, TypeError, UnicodeDecodeError) as exc:
        raise Conflict(_("种子无法开启，抽取未执行。"), code="SEED_SEAL_BROKEN") from exc
    if drawing.seed_hash(seed) != draw.seed_hash:
        raise Conflict(
            _("开启的种子与封存时公布的哈希不一致，抽取未执行。"), code="SEED_SEAL_BROKEN"
        )
    return seed


def run_draw(actor: Actor, draw: DrawRequest) -> list[DrawnExpert]:
    """Open the sealed seed, apply the documented selection to it and the committed pool, and reveal
    the seed."""
    require_perm(actor, "experts.request_draw")
    with transaction.atomic():
        locked = DrawRequest.objects.select_for_update().get(pk=draw.pk)
        if locked.status != DrawRequest.Status.COMMITTED:
            raise Conflict(_("该抽取已执行。"), code="ALREADY_DRAWN")
        locked.seed = _open_seed(locked)
        picks = drawing.select(locked.seed, locked.pool, locked.request_document())
        drawn = DrawnExpert.objects.bulk_create(
            [
                DrawnExpert(
                    draw=locked,
                    expert_id=p.expert_id,
                    quota=p.quota,
                    position=p.position,
                    role=p.role,
                    seated=p.role == DrawnExpert.Role.MEMBER,
                    response=DrawnExpert.Response.PENDING
                    if p.role == DrawnExpert.Role.MEMBER
                    else DrawnExpert.Response.STANDBY,
                )
                for p in picks
            ]
        )
        locked.status = DrawRequest.Status.DRAWN
        locked.drawn_at = timezone.now()
        locked.save(update_fields=["status", "drawn_at", "seed"])
        event = record(
            actor,
            "experts.draw.drawn",
            locked,
            {
                "seed": locked.seed,
                "picks": [[p.quota, p.position, p.expert_id, p.role] for p in picks],
            },
        )
        for seat in drawn:
            if seat.seated:
                _tell_seat(seat, locked, event)
        if locked.replaces_in_id:
            # A replacement draw seats its one member in the original committee's place.
            _seat_replacement(actor, locked, drawn)
    return drawn


def sign_off(actor: Actor, draw: DrawRequest) -> DrawRequest:
    require_perm(actor, "experts.sign_off_draw")
    with transaction.atomic():
        locked = DrawRequest.objects.select_for_update().get(pk=draw.pk)
        if (
            locked.supervisor_id
            and actor.user is not None
            and locked.supervisor_id != actor.user.pk
        ):
            raise NotPermitted(_("只有现场监督人员可以确认本次抽取。"))
        if locked.status != DrawRequest.Status.DRAWN:
            raise Conflict(_("只有已抽取、未确认的抽取可以确认。"), code="WRONG_STATUS")
        locked.status = DrawRequest.Status.SIGNED_OFF
        locked.signed_off_at = timezone.now()
        if locked.supervisor_id is None:
            locked.supervisor = actor.user
        locked.save(update_fields=["status", "signed_off_at", "supervisor"])
        record(actor, "experts.draw.signed_off", locked, {"seed_hash": locked.seed_hash})
    return locked


def verify(draw: DrawRequest) -> list[str]:
    """Recompute a draw from its record and hold the record against its audit events. Empty when
    everything agrees; else what differs.

    The row alone proves little to someone who can write the database: a seed rewritten together with
    its hash still recomputes. The commit and draw events are on the hash chain (`verify_audit`
    catches an edited event), so their payloads — the commitments made before the draw, and the seed
    and picks revealed by it — are what the row must match."""
    problems = []
    if not draw.drawn_at:
        return ["the draw has not been run; the seed is still sealed"]
    if drawing.seed_hash(draw.seed) != draw.seed_hash:
        problems.append("the revealed seed does not match the committed seed hash")
    if drawing.document_hash(draw.pool) != draw.pool_hash:
        problems.append("the pool snapshot does not match its hash")
    if drawing.document_hash(draw.request_document()) != draw.request_hash:
        problems.append("the request does not match its hash")
    expected = [
        [p.quota, p.position, p.expert_id, p.role]
        for p in drawing.select(draw.seed, draw.pool, draw.request_document())
    ]
    recorded = [
        list(row)
        for row in draw.drawn.order_by("quota", "position").values_list(
            "quota", "position", "expert_id", "role"
        )
    ]
    if expected != recorded:
        problems.append("the recorded experts differ from the recomputed draw")
    problems += _against_audit_events(draw, recorded)
    return problems


def _against_audit_events(draw: DrawRequest, recorded: list[list[Any]]) -> list[str]:
    events = list(
        AuditEvent.objects.filter(
            object_type=DrawRequest._meta.label_lower,
            object_id=str(draw.pk),
            action__in=("experts.draw.committed", "experts.draw.drawn"),
        )
        .order_by("seq")
        .values(*VERIFY_FIELDS)
    )
    problems = [
        f"audit event {event['seq']} ({event['action']}) does not match its own hash"
        for event in events
        if row_hash(event) != event["hash"]
    ]
    committed = [e for e in events if e["action"] == "experts.draw.committed"]
    drawn = [e for e in events if e["action"] == "experts.draw.drawn"]
    if len(committed) != 1:
        problems.append(f"expected one commit event in the audit chain, found {len(committed)}")
    else:
        payload = committed[0]["payload"]
        row = {
            "request_hash": draw.request_hash,
            "pool_hash": draw.pool_hash,
            "seed_hash": draw.seed_hash,
            "project": draw.project_id,
            "lot": draw.lot_id,
            "replaces_in": draw.replaces_in_id,
        }
        problems += [
            f"{name} differs from the commit event (seq {committed[0]['seq']}): "
            f"row {value!r}, event {payload.get(name)!r}"
            for name, value in row.items()
            if payload.get(name) != value
        ]
    if len(drawn) != 1:
        problems.append(f"expected one draw event in the audit chain, found {len(drawn)}")
    else:
        payload = drawn[0]["payload"]
        if payload.get("seed") != draw.seed:
            problems.append(f"the seed differs from the draw event (seq {drawn[0]['seq']})")
        if payload.get("picks") != recorded:
            problems.append(f"the drawn experts differ from the draw event (seq {drawn[0]['seq']})")
    return problems


# --- Confirmation and replacement -----------------------------------------------------------------


def respond(actor: Actor, drawn: DrawnExpert, *, confirm: bool, reason: str = "") -> DrawnExpert:
    """The drawn expert confirms or declines. A decline seats the next alternate of the same specialty,
    in draw order; without one, staff run a replacement draw (never a choice)."""
    with transaction.atomic():
        locked = (
            DrawnExpert.objects.select_for_update()
            .select_related("expert", "draw")
            .get(pk=drawn.pk)
        )
        if actor.user is None or locked.expert.user_id != actor.user.pk:
            raise NotPermitted(_("只能回复本人的抽取通知。"))
        if not locked.seated or locked.response != DrawnExpert.Response.PENDING:
            raise Conflict(_("该通知已回复。"), code="ALREADY_ANSWERED")
        if not confirm and not reason.strip():
            raise DomainError(_("谢绝须说明原因。"), code="REASON_REQUIRED")
        locked.response = (
            DrawnExpert.Response.CONFIRMED if confirm else DrawnExpert.Response.DECLINED
        )
        locked.responded_at = timezone.now()
        locked.decline_reason = "" if confirm else reason.strip()[:200]
        if not confirm:
            locked.seated = False
        locked.save(update_fields=["response", "responded_at", "decline_reason", "seated"])
        record(
            actor,
            "experts.expert.confirmed" if confirm else "experts.expert.declined",
            locked,
            {"draw": locked.draw_id, "reason": locked.decline_reason},
        )
        if not confirm:
            _call_next_alternate(actor, locked)
    return locked


def _call_next_alternate(actor: Actor, declined: DrawnExpert) -> DrawnExpert | None:
    alternate = (
        DrawnExpert.objects.select_for_update()
        .filter(
            draw=declined.draw,
            quota=declined.quota,
            role=DrawnExpert.Role.ALTERNATE,
            response=DrawnExpert.Response.STANDBY,
        )
        .order_by("position")
        .first()
    )
    if alternate is None:
        record(actor, "experts.draw.needs_replacement", declined.draw, {"quota": declined.quota})
        return None
    alternate.seated = True
    alternate.response = DrawnExpert.Response.PENDING
    alternate.save(update_fields=["seated", "response"])
    event = record(
        actor,
        "experts.alternate.called",
        alternate,
        {"draw": declined.draw_id, "quota": declined.quota, "position": alternate.position},
    )
    _tell_seat(alternate, declined.draw, event)
    return alternate


# --- Telling the drawn expert, and its answer by a signed link -------------------------------------


def confirmation_deadline(draw: DrawRequest) -> dt.datetime:
    """A drawn expert answers before the evaluation starts: after that the seat cannot be filled."""
    return draw.evaluation_at


def seat_link(seat: DrawnExpert) -> str:
    """The absolute, signed link with which the drawn expert confirms or declines without signing in
    (sent by SMS): it names the seat and the expert's user, and works while the seat awaits its answer."""
    token = make_token("expert-seat", {"seat": seat.pk, "user": seat.expert.user_id})
    return absolute(reverse("seat_link") + "?t=" + token)


def _tell_seat(seat: DrawnExpert, draw: DrawRequest, event: AuditEvent) -> None:
    """The expert alone hears that it was drawn (legal: its seat goes to an alternate if it does not
    answer in time); the notice carries the signed link. Nobody else is told who was drawn."""
    user = seat.expert.user
    if user is None:
        return
    project = draw.project
    deadline = confirmation_deadline(draw)
    link = seat_link(seat)
    place = f"{project.number} {project.title}"
    if draw.lot is not None:
        place += f" 第{draw.lot.number}标段"
    notify(
        "expert.drawn",
        [user],
        cause=f"expert.drawn:{event.pk}",
        params={
            "when": moment_text(draw.evaluation_at),
            "place": place,
            "deadline": moment_text(deadline),
            "link": link,
        },
        url=link,
        due_at=deadline,
    )


def seat_of_link(token: str) -> tuple[DrawnExpert, User]:
    """The seat and the expert's user a seat link names (TOKEN_INVALID / TOKEN_EXPIRED otherwise)."""
    payload = read_token("expert-seat", token)
    seat_id = payload.get("seat")
    if not isinstance(seat_id, int):
        raise TokenRefused(_("链接无效。"))
    seat = (
        DrawnExpert.objects.select_related("expert__user", "draw__project", "draw__lot")
        .filter(pk=seat_id)
        .first()
    )
    if (
        seat is None
        or seat.expert.user is None
        or seat.expert.user_id != payload.get("user")
        or not seat.expert.user.is_active
    ):
        raise TokenRefused(_("链接无效。"))
    return seat, seat.expert.user


def respond_by_link(
    token: str, *, confirm: bool, reason: str = "", ip: str | None = None
) -> DrawnExpert:
    """The answer sent from the SMS link: `respond` as the expert the link was made for (audited as that
    user, from this address). Good once: an answered seat refuses (ALREADY_ANSWERED)."""
    seat, user = seat_of_link(token)
    if timezone.now() > confirmation_deadline(seat.draw):
        raise TokenRefused(_("链接已过期，请重新申请发送。"), code="TOKEN_EXPIRED")
    return respond(Actor.for_user(user, ip), seat, confirm=confirm, reason=reason)


def vacancies(draw: DrawRequest) -> dict[int, int]:
    """Seats per quota still empty after declines ran through the alternates: {quota index: count}.
    Seats filled by replacement draws (one specialty each) count towards their specialty."""
    filled = Counter(
        d.draw.quotas[0]["specialty"]
        for d in DrawnExpert.objects.filter(draw__replaces_in=draw, seated=True).select_related(
            "draw"
        )
    )
    missing: dict[int, int] = {}
    for index, quota in enumerate(draw.quotas):
        seated = draw.drawn.filter(quota=index, seated=True).count()
        from_replacements = min(filled[quota["specialty"]], quota["count"] - seated)
        filled[quota["specialty"]] -= max(from_replacements, 0)
        empty = quota["count"] - seated - max(from_replacements, 0)
        if empty > 0:
            missing[index] = empty
    return missing


def commit_replacement(
    actor: Actor, draw: DrawRequest, quota_index: int, *, supervisor: Any = None
) -> DrawRequest:
    """A fresh commit–reveal draw for one empty seat, from the same specialty, excluding everyone drawn
    before for this committee."""
    quota = draw.quotas[quota_index]
    replacement = commit_draw(
        actor,
        draw.project,
        lot=draw.lot,
        evaluation_at=draw.evaluation_at,
        committee_size=1,
        quotas=[{"specialty": quota["specialty"], "count": 1}],
        alternates=0,
        panel=draw.panel,
        allowed_regions=draw.allowed_regions,
        excluded_regions=draw.excluded_regions,
        supervisor=supervisor or draw.supervisor,
        replaces_in=draw,
    )
    return replacement


def _seat_replacement(actor: Actor, replacement: DrawRequest, drawn: list[DrawnExpert]) -> None:
    # Everyone drawn before for this committee was excluded from the replacement's pool at commitment.
    record(
        actor,
        "experts.replacement.seated",
        replacement.replaces_in,
        {"replacement_draw": replacement.pk, "experts": [d.expert_id for d in drawn]},
    )


# --- Confidentiality ------------------------------------------------------------------------------


def may_see_identities(user: Any, draw: DrawRequest) -> bool:
    """Staff who run draws and supervisors see names; everyone else only after disclosure."""
    if has_perm(user, "experts.view_draw_identities") or has_perm(user, "experts.request_draw"):
        return True
    return draw.disclosed_at is not None


def disclose(actor: Actor, draw: DrawRequest) -> DrawRequest:
    """Once the result is fixed, the committee may be named (GP result notices list the experts)."""
    require_perm(actor, "experts.request_draw")
    with transaction.atomic():
        locked = DrawRequest.objects.select_for_update().get(pk=draw.pk)
        if locked.status != DrawRequest.Status.SIGNED_OFF:
            raise Conflict(_("抽取尚未经监督确认。"), code="WRONG_STATUS")
        if locked.disclosed_at is None:
            locked.disclosed_at = timezone.now()
            locked.save(update_fields=["disclosed_at"])
            record(actor, "experts.draw.disclosed", locked, {})
    return locked


# --- 一标一评 ----------------------------------------------------------------------------------------


def deviating_scores(scores: dict[int, Decimal]) -> set[int]:
    """Members whose score lies further than EXPERT_SCORE_DEVIATION × median from the median."""
    if len(scores) < 3:
        return set()
    median = Decimal(statistics.median(scores.values()))
    limit = abs(median) * Decimal(settings.EXPERT_SCORE_DEVIATION)
    return {member for member, score in scores.items() if abs(score - median) > limit}


def rate(
    actor: Actor,
    expert: Expert,
    project: Project,
    *,
    attended: bool,
    recusal_complied: bool,
    grade: int,
    score_deviation_flagged: bool = False,
    note: str = "",
) -> Rating:
    """Rate one expert's conduct on one project; the rating feeds the pool: a concealed conflict bars the
    expert, a second absence within a year suspends for six months."""
    require_perm(actor, "experts.add_rating")
    if not isinstance(grade, int) or not 1 <= grade <= 5:
        raise DomainError(_("评价须为 1 至 5 分。"), code="INVALID_GRADE")
    with transaction.atomic():
        locked = Expert.objects.select_for_update().get(pk=expert.pk)
        if Rating.objects.filter(expert=locked, project=project).exists():
            raise Conflict(_("该专家在本项目已有评价。"), code="ALREADY_RATED")
        rating = Rating.objects.create(
            expert=locked,
            project=project,
            attended=attended,
            recusal_complied=recusal_complied,
            score_deviation_flagged=score_deviation_flagged,
            grade=grade,
            note=note.strip(),
            rated_by=actor.acting_user,
            rated_at=timezone.now(),
        )
        record(
            actor,
            "experts.expert.rated",
            rating,
            {
                "project": project.pk,
                "attended": attended,
                "recusal_complied": recusal_complied,
                "grade": grade,
                "score_deviation_flagged": score_deviation_flagged,
            },
        )
        today = timezone.localdate()
        if not recusal_complied:
            _set_status(
                actor,
                locked,
                status=Expert.Status.BLACKLISTED,
                until=None,
                reason=f"{project.number} 应回避未回避",
            )
        elif not attended:
            absences = Rating.objects.filter(
                expert=locked, attended=False, rated_at__gte=timezone.now() - dt.timedelta(days=365)
            ).count()
            if absences >= 2:
                _set_status(
                    actor,
                    locked,
                    status=Expert.Status.SUSPENDED,
                    until=today + dt.timedelta(days=182),
                    reason="一年内两次无故缺席",
                )
    return rating
