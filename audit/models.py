"""The audit chain: an append-only, hash-linked log of every state change on the platform."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

GENESIS_HASH = "0" * 64


class AppendOnlyError(RuntimeError):
    """Raised by every path that would change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError(
            "audit events are appended only through audit.services.record / record_many"
        )


class AuditEvent(models.Model):
    """One event. `hash` = SHA-256 of the canonical JSON of every field below and `prev_hash`.

    Written only by `audit.services.record`. The model, its queryset and the admin refuse updates and
    deletes; on PostgreSQL a trigger refuses them too. Someone with raw database access can still edit
    a row — `verify_audit` is what catches that.
    """

    seq = models.PositiveBigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("服务器时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人"), max_length=150)
    role = models.CharField(_("角色"), max_length=32)
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ip = models.CharField(_("客户端IP"), max_length=45, blank=True)
    action = models.CharField(_("动作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    payload = models.JSONField(_("内容"), default=dict)
    prev_hash = models.CharField(_("前一哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("singular", "审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")


class ChainHead(models.Model):
    """The single row that serializes appends and remembers the last event.

    Appenders lock it (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions already hold
    the database write lock), so two transactions can never both extend the same `seq`. It also lets
    `verify_audit` notice events deleted from the end of the chain, which the links alone cannot show.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"head #{self.seq}"


class Checkpoint(models.Model):
    """A head the clock verified: later verifications compare against it, so rewriting the chain from
    some point onwards (and recomputing every hash), or removing its tail and moving the head back
    below it, is caught as long as one checkpoint survives. Passed checkpoints are published as the
    head history (`/audit/heads/`) so that people outside the platform can keep them too."""

    verified_at = models.DateTimeField(_("校验时间"))
    seq = models.PositiveBigIntegerField(_("序号"))
    hash = models.CharField(_("哈希"), max_length=64)
    ok = models.BooleanField(_("通过"))
    detail = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "审计链校验点")
        verbose_name_plural = _("审计链校验点")
        ordering = ["-verified_at"]
        default_permissions = ("view",)
        indexes = [
            # The head history (newest head first) and verification's highest passed checkpoint.
            models.Index(
                fields=["seq", "hash"], condition=models.Q(ok=True), name="audit_passed_head_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{'OK' if self.ok else 'BROKEN'} #{self.seq} @ {self.verified_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """Something supervisors must look at, raised by a service the moment it happens (one payer behind
    two bidders, a replayed bank message with other content, an overdue refund…). Handling it — with a
    note — is the only change a supervisor makes on the platform."""

    class Kind(models.TextChoices):
        SAME_PAYER_ACCOUNT = "same_payer_account", _("同一账户为多家投标人缴纳保证金")
        BANK_REPLAY_CONFLICT = "bank_replay_conflict", _("银行报文重放且内容不一致")
        BANK_SIGNATURE_INVALID = "bank_signature_invalid", _("银行报文签名无效")
        PAYER_MISMATCH = "payer_mismatch", _("保证金付款人与投标人不符")
        REFUND_OVERDUE = "refund_overdue", _("保证金退还逾期")
        REFUND_CONFIRMATION_CONFLICT = "refund_confirmation_conflict", _("退款回单与记录不一致")
        SAME_IP = "same_ip", _("不同投标人从同一IP地址操作")
        SAME_DOCUMENT = "same_document", _("不同投标人的投标文件内容相同")
        ROTATION = "rotation", _("同一中标人反复胜过同一批投标人")
        SCORE_OUTLIER = "score_outlier", _("专家评分明显偏离委员会中位数")

    kind = models.CharField(_("类型"), max_length=40, choices=Kind.choices, db_index=True)
    summary = models.CharField(_("摘要"), max_length=300)
    details = models.JSONField(_("详情"), default=dict)
    project_id = models.BigIntegerField(_("项目"), null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    raised_at = models.DateTimeField(_("发生时间"))
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("处理意见"), blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "预警")
        verbose_name_plural = _("预警")
        ordering = ["-raised_at"]
        permissions = [("handle_alert", _("可处理预警"))]

    def __str__(self) -> str:
        return self.summary
