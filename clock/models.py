from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledTask(models.Model):
    """A time-based step due at `due_at`: a bid deadline, an auction's close, a refund's due date.

    A service that sets a deadline schedules the step in the same transaction (`clock.services.schedule`)
    and reschedules it when the deadline moves. The step itself must be idempotent and must re-check
    the time and state it acts on, because a late or duplicated clock must never change the outcome.
    """

    key = models.CharField(_("键"), max_length=200, unique=True)
    step = models.CharField(_("步骤"), max_length=100)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    due_at = models.DateTimeField(_("到期时间"))
    # A clock process owns a claimed task until the lease runs out; a crashed process's tasks are
    # picked up by another after that.
    leased_until = models.DateTimeField(null=True, blank=True)
    leased_by = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")
        indexes = [models.Index(fields=["done_at", "due_at"], name="clock_due_idx")]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.step}({self.object_id}) @ {self.due_at:%Y-%m-%d %H:%M:%S}"


class StatutoryDay(models.Model):
    """A day the statutory calendar treats differently from its weekday, kept by center staff.

    `chinese-calendar` knows the State Council's holiday notices up to the last year it was released
    for; rows here add later years (and override the package where a notice changed). A year with
    neither counts only weekends as rest days, and staff are warned (`clock.calendar.missing_years`).
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日（休息）")
        WORKDAY = "workday", _("调休上班日")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=50, blank=True)
    notice = models.CharField(_("依据（国务院办公厅通知）"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("法定工作日调整")
        verbose_name_plural = _("法定工作日调整")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"
