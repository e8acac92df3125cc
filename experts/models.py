"""The evaluation expert pool (评标专家库) and verifiable random draws (随机抽取) with avoidance (回避)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization
from trading.models import Lot, Project


class Specialty(models.Model):
    """A hierarchical specialty code (e.g. A08 建筑工程 → A0801 土建); a quota for a code takes experts
    registered under it or any code below it."""

    code = models.CharField(_("专业代码"), max_length=20, unique=True)
    name = models.CharField(_("专业名称"), max_length=100)

    class Meta:
        verbose_name = pgettext_lazy("singular", "评标专业")
        verbose_name_plural = _("评标专业")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Expert(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        SUSPENDED = "suspended", _("暂停")
        BLACKLISTED = "blacklisted", _("禁入")

    class Title(models.TextChoices):
        SENIOR = "senior", _("高级职称")
        PROFESSOR = "professor", _("正高级职称")
        EQUIVALENT = "equivalent", _("同等专业水平")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expert",
    )
    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职称"), max_length=12, choices=Title.choices)
    years_in_field = models.PositiveSmallIntegerField(_("从业年限"))
    region = models.CharField(_("所在地区"), max_length=12)
    employer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("工作单位"),
    )
    specialties = models.ManyToManyField(Specialty, related_name="experts", verbose_name=_("专业"))
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    # A suspension or blacklisting lasts until this day (inclusive); null = until lifted.
    status_until = models.DateField(_("状态截止日"), null=True, blank=True)
    status_reason = models.TextField(_("状态原因"), blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "评标专家")
        verbose_name_plural = _("评标专家")
        ordering = ["name", "id"]
        permissions = [("manage_pool", _("可管理专家库"))]

    def __str__(self) -> str:
        return self.name


class Employment(models.Model):
    """A past or present tie to an organization: employment, directorship, shareholding, control."""

    class Role(models.TextChoices):
        EMPLOYEE = "employee", _("任职")
        DIRECTOR = "director", _("董事/监事")
        SHAREHOLDER = "shareholder", _("股东/出资人")
        CONTROLLER = "controller", _("实际控制人")

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="employments")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("关系"), max_length=12, choices=Role.choices, default=Role.EMPLOYEE)
    start = models.DateField(_("起"))
    end = models.DateField(_("止"), null=True, blank=True)

    class Meta:
        ordering = ["-start"]

    def __str__(self) -> str:
        return f"{self.expert} @ {self.organization}"


class Relation(models.Model):
    """A declared personal relation: a relative among an organization's key people (法定代表人、股东、
    项目负责人…), or any other tie that could affect fairness."""

    class Kind(models.TextChoices):
        RELATIVE = "relative", _("近亲属")
        OTHER = "other", _("其他利害关系")

    expert = models.ForeignKey(Expert, on_delete=models.CASCADE, related_name="relations")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    person_name = models.CharField(_("关系人"), max_length=50, blank=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.expert} ~ {self.organization}"


class DrawRequest(models.Model):
    """A request to draw a committee for a project or lot, and the full record of its draw.

    Commit–reveal: at commitment the eligible pool is frozen (`pool`, hashed into `pool_hash`), the
    request is hashed (`request_hash`) and a secret seed is fixed, of which only `seed_hash` is shown.
    Until the draw the seed exists only sealed to the project key (`sealed_seed`, like the land
    reserve), whose private half is wrapped under BID_MASTER_KEY outside the database: reading every
    column of every table does not tell the committee in advance. The draw opens the seal and applies
    `experts.draw.select(seed, pool, request)`, a documented deterministic function; the seed is then
    revealed (`seed`), so anyone can recompute the draw (`manage.py verify_draw`, which also holds the
    row against its audit events).
    """

    class Panel(models.TextChoices):
        COMMITTEE = "committee", _("评标委员会")
        NEGOTIATION = "negotiation", _("谈判小组")
        INQUIRY = "inquiry", _("询价小组")

    class Status(models.TextChoices):
        COMMITTED = "committed", _("已封存种子，待抽取")
        DRAWN = "drawn", _("已抽取，待监督确认")
        SIGNED_OFF = "signed_off", _("监督已确认")
        CANCELLED = "cancelled", _("已取消")

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="draws")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # A replacement draw (after the alternates ran out) points at the draw it completes.
    replaces_in = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    panel = models.CharField(
        _("组别"), max_length=12, choices=Panel.choices, default=Panel.COMMITTEE
    )
    committee_size = models.PositiveSmallIntegerField(_("成员总数"))
    owner_representatives = models.PositiveSmallIntegerField(_("招标人代表人数"), default=0)
    # [{"specialty": "A0801", "count": 3}, …]; counts add up to the experts to draw.
    quotas = models.JSONField(_("专业配额"))
    alternates = models.PositiveSmallIntegerField(_("每个专业的候补人数"), default=2)
    allowed_regions = models.JSONField(_("限定地区"), default=list, blank=True)
    excluded_regions = models.JSONField(_("排除地区"), default=list, blank=True)
    evaluation_at = models.DateTimeField(_("评标时间"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("现场监督"),
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.COMMITTED
    )
    committed_at = models.DateTimeField(_("封存时间"))
    request_hash = models.CharField(max_length=64)
    pool = models.JSONField(_("合格专家池快照"))
    pool_hash = models.CharField(max_length=64)
    seed_hash = models.CharField(_("种子哈希"), max_length=64)
    # The seed sealed to the project's public key (SealedBox) at commitment; opened only by the draw.
    sealed_seed = models.BinaryField(null=True, blank=True)
    # Empty until the draw; revealed (and thereafter public to supervisors) once drawn.
    seed = models.CharField(max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("抽取时间"), null=True, blank=True)
    signed_off_at = models.DateTimeField(_("监督确认时间"), null=True, blank=True)
    # Identities stay confidential until the result is fixed; then GP notices list the experts.
    disclosed_at = models.DateTimeField(_("名单公开时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "专家抽取")
        verbose_name_plural = _("专家抽取")
        ordering = ["-committed_at"]
        permissions = [
            ("request_draw", _("可申请/执行专家抽取")),
            ("sign_off_draw", _("可监督确认专家抽取")),
            ("view_draw_identities", _("可查看抽取专家名单")),
        ]

    def __str__(self) -> str:
        return f"draw {self.pk} {self.project.number}"

    @property
    def seed_revealed(self) -> bool:
        return self.drawn_at is not None

    def request_document(self) -> dict[str, Any]:
        """The request as hashed: what the draw was asked to do."""
        return {
            "draw": self.pk,
            "project": self.project_id,
            "lot": self.lot_id,
            "panel": self.panel,
            "committee_size": self.committee_size,
            "owner_representatives": self.owner_representatives,
            "quotas": self.quotas,
            "alternates": self.alternates,
            "allowed_regions": self.allowed_regions,
            "excluded_regions": self.excluded_regions,
            "evaluation_at": self.evaluation_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        }


class DrawExclusion(models.Model):
    """Why an expert of the requested specialties was left out of the pool (supervisors only)."""

    draw = models.ForeignKey(DrawRequest, on_delete=models.CASCADE, related_name="exclusions")
    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="+")
    reasons = models.JSONField(_("回避原因"))

    def __str__(self) -> str:
        return f"{self.draw_id}: {self.expert_id}"


class DrawnExpert(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("委员")
        ALTERNATE = "alternate", _("候补")

    class Response(models.TextChoices):
        PENDING = "pending", _("待确认")
        CONFIRMED = "confirmed", _("已确认参加")
        DECLINED = "declined", _("已谢绝")
        STANDBY = "standby", _("候补未启用")

    draw = models.ForeignKey(DrawRequest, on_delete=models.PROTECT, related_name="drawn")
    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="draws")
    quota = models.PositiveSmallIntegerField(_("配额序号"))
    position = models.PositiveSmallIntegerField(_("抽取顺序"))
    role = models.CharField(_("身份"), max_length=10, choices=Role.choices)
    # Seated on the committee now (members, and alternates called up after a decline).
    seated = models.BooleanField(_("在委员会中"), default=False)
    response = models.CharField(
        _("回复"), max_length=10, choices=Response.choices, default=Response.PENDING
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("谢绝原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["draw", "quota", "position"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "expert"], name="expert_drawn_once_per_draw"),
            models.UniqueConstraint(
                fields=["draw", "quota", "position"], name="one_expert_per_draw_slot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.draw_id}/{self.quota}/{self.position} {self.expert}"

    @property
    def specialty(self) -> str:
        """The specialty code of the quota this expert was drawn for (the draw's request names it)."""
        quotas = self.draw.quotas
        code: str = quotas[self.quota]["specialty"] if self.quota < len(quotas) else ""
        return code


class Rating(models.Model):
    """一标一评: the expert's conduct on one project."""

    expert = models.ForeignKey(Expert, on_delete=models.PROTECT, related_name="ratings")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    attended = models.BooleanField(_("按时到场"))
    recusal_complied = models.BooleanField(_("如实回避"))
    score_deviation_flagged = models.BooleanField(_("评分明显偏离"), default=False)
    grade = models.PositiveSmallIntegerField(_("评价（1–5）"))
    note = models.TextField(_("说明"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    rated_at = models.DateTimeField(_("评价时间"))

    class Meta:
        verbose_name = pgettext_lazy("singular", "专家评价")
        verbose_name_plural = _("专家评价")
        ordering = ["-rated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["expert", "project"], name="one_rating_per_expert_project"
            ),
            models.CheckConstraint(
                condition=Q(grade__gte=1) & Q(grade__lte=5), name="grade_one_to_five"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expert} {self.project.number} {self.grade}"


class ExpertApplication(models.Model):
    """A person's own application to join the expert pool (专家申请), reviewed by center staff.

    submitted after the applicant verified the email (a signed link, accounts.tokens purpose
    "expert-email") → approved (the `Expert` is added to the pool through `services.add_expert`, with
    a user of the expert role who sets a password through the link mailed to them) | returned (with
    reasons, shown on the applicant's status page reached through the same kind of link, where they
    fix it and submit it again).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("待验证邮箱")
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("已退回")

    name = models.CharField(_("姓名"), max_length=50)
    # 居民身份证号码 (GB 11643, checked with stdnum.cn.ric); seen by center staff and supervisors only.
    id_number = models.CharField(_("身份证号码"), max_length=18)
    title = models.CharField(_("职称"), max_length=12, choices=Expert.Title.choices)
    years_in_field = models.PositiveSmallIntegerField(_("从业年限"))
    region = models.CharField(_("所在地区"), max_length=12)
    employer = models.CharField(_("工作单位"), max_length=200)
    # The employer's 统一社会信用代码 when it is registered here: the expert's ties (回避) start there.
    employer_uscc = models.CharField(_("工作单位统一社会信用代码"), max_length=18, blank=True)
    specialties = models.JSONField(_("专业代码"), default=list)
    email = models.EmailField(_("邮箱"))
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    return_reasons = models.TextField(_("退回理由"), blank=True)
    email_verified_at = models.DateTimeField(_("邮箱验证时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expert = models.OneToOneField(
        Expert, on_delete=models.PROTECT, null=True, blank=True, related_name="application"
    )

    class Meta:
        verbose_name = pgettext_lazy("singular", "专家申请")
        verbose_name_plural = _("专家申请")
        ordering = ["-created_at", "-id"]
        permissions = [("review_expertapplication", _("可审核专家申请"))]

    def __str__(self) -> str:
        return self.name
