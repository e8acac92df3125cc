"""Notices, their delivery per channel, and each user's channel preferences (docs/notifications.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from notifications import kinds


class Notice(models.Model):
    """One message to one person. `cause` says why it exists; the same cause never reaches a person twice
    (unique with the recipient), so a service or clock step that runs again notifies nobody again."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(_("类别"), max_length=64)
    cause = models.CharField(_("原因"), max_length=200)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    # The deadline this notice is about, if any (shown with a countdown).
    due_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["recipient", "cause"], name="notice_once_per_cause")
        ]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_unread")]

    def __str__(self) -> str:
        return self.title

    @property
    def kind_info(self) -> kinds.Kind:
        return kinds.get(self.kind) if kinds.exists(self.kind) else kinds.get("message")

    @property
    def title(self) -> str:
        return kinds.render(self.kind_info.title, self.params) or str(self.kind_info.label)

    @property
    def body(self) -> str:
        return kinds.render(self.kind_info.body, self.params)

    @property
    def legal(self) -> bool:
        return self.kind_info.legal


class Delivery(models.Model):
    """A notice's delivery on one channel. In-app is delivered when the notice commits; email and SMS are
    sent by the clock (delivery.py) with retries and back-off, and each attempt's answer is kept."""

    class Channel(models.TextChoices):
        INAPP = kinds.INAPP, _("站内")
        EMAIL = kinds.EMAIL, _("邮件")
        SMS = kinds.SMS, _("短信")

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("失败")

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    # The address at the time the notice was queued: a later change of address does not re-route it.
    address = models.CharField(_("地址"), max_length=254, blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    provider_ref = models.CharField(_("服务商编号"), max_length=100, blank=True)
    provider_answer = models.TextField(_("服务商应答"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "送达记录")
        verbose_name_plural = _("送达记录")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["notice", "channel"], name="delivery_once_per_channel")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}/{self.channel}: {self.status}"


class Preference(models.Model):
    """A user's choice for one kind on one channel; without a row the kind's default applies."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preferences"
    )
    kind = models.CharField(_("类别"), max_length=64)
    channel = models.CharField(_("渠道"), max_length=8, choices=Delivery.Channel.choices)
    enabled = models.BooleanField(_("接收"))

    class Meta:
        verbose_name = pgettext_lazy("singular", "通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "channel"], name="preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}: {self.enabled}"
