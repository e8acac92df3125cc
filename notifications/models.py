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
    # The clock process that claimed it while `sending` (delivery.py); `next_attempt_at` is then the end
    # of its lease, after which another process may take the delivery over.
    leased_by = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "送达记录")
        verbose_name_plural = _("送达记录")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)
        permissions = [("retry_delivery", _("重新发送失败的通知"))]
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


class PhoneVerification(models.Model):
    """The code texted to a user's mobile number (phone.py): one pending code per user, stored as a keyed
    hash, valid PHONE_CODE_MINUTES, PHONE_CODE_MAX_TRIES tries."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_verification"
    )
    phone = models.CharField(_("手机号"), max_length=20)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(_("有效期至"))
    tries = models.PositiveIntegerField(_("尝试次数"), default=0)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    sends = models.PositiveIntegerField(_("发送次数"), default=0)

    class Meta:
        verbose_name = _("手机验证")
        verbose_name_plural = _("手机验证")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.user_id} {self.phone}"


class SimulatedEmail(models.Model):
    """A message the email simulator received instead of an SMTP server (development and the demo)."""

    message_id = models.CharField(_("Message-ID"), max_length=254, blank=True)
    sender = models.CharField(_("发件人"), max_length=254)
    to = models.TextField(_("收件人"))
    subject = models.CharField(_("主题"), max_length=500)
    body = models.TextField(_("正文"))
    headers = models.JSONField(_("邮件头"), default=dict)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("模拟邮件")
        verbose_name_plural = _("模拟邮件")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.subject


class SimulatedSms(models.Model):
    """A text the SMS simulator accepted. Like a real provider it answers a repeated idempotency key
    with the first message's reference and keeps one row."""

    idempotency_key = models.CharField(max_length=100, unique=True)
    to = models.CharField(_("手机号"), max_length=20)
    text = models.TextField(_("短信内容"))
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("模拟短信")
        verbose_name_plural = _("模拟短信")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.to}: {self.text[:30]}"

    @property
    def provider_ref(self) -> str:
        return f"sim-{self.pk}"
