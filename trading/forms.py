"""Forms of the trading pages. They only parse input into the arguments of a service; every rule
(legal periods, deposit caps, statuses) is checked by trading.services, whose DomainError the page shows
next to the kept input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from clock.models import StatutoryDay
from lib import numbers
from lib.forms import form_field
from lib.money import AmountFormField, format_amount
from trading.models import Announcement, Lot, Project

BEIJING = ZoneInfo("Asia/Shanghai")
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"

# 行政区划代码 of the center's city and its districts, offered as suggestions on the portal filter.
REGIONS = {
    "440400": _("珠海市"),
    "440402": _("香洲区"),
    "440403": _("斗门区"),
    "440404": _("金湾区"),
}


class BeijingDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=LOCAL_INPUT_FORMAT)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            value = value.astimezone(BEIJING)
        return super().format_value(value)


class BeijingDateTimeField(forms.DateTimeField):
    """<input type="datetime-local"> read as Beijing time, whatever the server's or browser's zone."""

    widget = BeijingDateTimeInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "input_formats", [LOCAL_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(BEIJING).replace(tzinfo=None)
        return value

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, dt.datetime):
            return value if timezone.is_aware(value) else value.replace(tzinfo=BEIJING)
        if value in self.empty_values:
            return None
        text = str(value).strip()
        for fmt in self.input_formats or ():
            try:
                return dt.datetime.strptime(text, fmt).replace(tzinfo=BEIJING)
            except ValueError:
                continue
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


# --- Agent: the project and its lots --------------------------------------------------------------


class ProjectForm(forms.Form):
    owner = numbers.ModelChoiceField(
        label=_("招标人/采购人"),
        queryset=Organization.objects.filter(
            kind__in=[Organization.Kind.OWNER, Organization.Kind.AGENT], is_active=True
        ).order_by("name"),
    )
    title = forms.CharField(label=_("项目名称"), max_length=200)
    description = forms.CharField(
        label=_("项目概况"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    kind = forms.ChoiceField(label=_("交易类型"), choices=Project.Kind.choices)
    category = forms.ChoiceField(label=_("采购类别"), choices=Project.Category.choices)
    method = forms.ChoiceField(label=_("交易方式"), choices=Project.Method.choices)
    region = forms.CharField(label=_("行政区划代码"), max_length=12, initial="440400")
    mandatory_tender = forms.BooleanField(label=_("依法必须招标"), required=False, initial=True)
    registration_required = forms.BooleanField(
        label=_("下载招标文件须先报名"), required=False, initial=True
    )
    bid_validity_days = numbers.IntegerFormField(
        label=_("投标有效期（日）"), min_value=1, max_value=3650, initial=90
    )
    two_suppliers_allowed = forms.BooleanField(
        label=_("竞争性磋商：政府购买服务/科研项目（2家供应商可继续）"), required=False
    )
    documents_from = BeijingDateTimeField(label=_("招标文件获取开始（北京时间）"), required=False)
    documents_until = BeijingDateTimeField(label=_("招标文件获取截止（北京时间）"), required=False)
    questions_until = BeijingDateTimeField(label=_("提问截止（北京时间）"), required=False)
    bid_deadline = BeijingDateTimeField(label=_("投标截止/开标时间（北京时间）"), required=False)
    deposit_deadline = BeijingDateTimeField(
        label=_("保证金到账截止（北京时间，留空同投标截止）"), required=False
    )
    invitees = numbers.ModelMultipleChoiceField(
        label=_("被邀请单位（邀请招标）"),
        queryset=Organization.objects.filter(
            kind=Organization.Kind.SUPPLIER, is_active=True
        ).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # The owner is fixed when the project is drafted (the services have no way to change it).
            del self.fields["owner"]

    def service_fields(self) -> dict[str, Any]:
        """The keyword arguments of create_project/update_project (without lots and invitees)."""
        data = dict(self.cleaned_data)
        data.pop("owner", None)
        data.pop("invitees", None)
        return data

    def invitee_ids(self) -> list[int]:
        if self.cleaned_data.get("method") != Project.Method.INVITATION:
            return []
        return [org.pk for org in self.cleaned_data.get("invitees") or []]

    @classmethod
    def initial_for(cls, project: Project) -> dict[str, Any]:
        fields = (
            "title",
            "description",
            "kind",
            "category",
            "method",
            "region",
            "mandatory_tender",
            "registration_required",
            "bid_validity_days",
            "two_suppliers_allowed",
            "documents_from",
            "documents_until",
            "questions_until",
            "bid_deadline",
            "deposit_deadline",
        )
        initial = {name: getattr(project, name) for name in fields}
        initial["invitees"] = [invitee.organization_id for invitee in project.invitees.all()]
        return initial


class LotForm(forms.Form):
    name = forms.CharField(label=_("标段/包名称"), max_length=200, required=False)
    estimate = AmountFormField(label=_("估算价/预算（元）"))
    ceiling_price = AmountFormField(label=_("最高投标限价（元）"), required=False)
    # A Decimal initial, so that an untouched extra row (sent back as "0.00") counts as unchanged.
    deposit_amount = AmountFormField(
        label=_("保证金金额（元）"), allow_zero=True, initial=Decimal("0")
    )
    deposit_forms = forms.MultipleChoiceField(
        label=_("保证金形式"),
        choices=Lot.DepositForm.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "政府采购项目由供应商自主选择保证金形式：不勾选即提供全部法定形式，不得只勾选部分。"
        ),
    )

    def service_lot(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data.get("name") or "",
            # The service takes the wire text (and reads it with the same parser again).
            "estimate": format_amount(data["estimate"]),
            "ceiling_price": (
                format_amount(data["ceiling_price"]) if data.get("ceiling_price") else None
            ),
            "deposit_amount": format_amount(data.get("deposit_amount") or Decimal("0")),
            "deposit_forms": list(data.get("deposit_forms") or []),
        }


LotFormSet = forms.formset_factory(
    LotForm, extra=1, min_num=1, validate_min=True, can_delete=True, max_num=50
)


def lots_from(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    """The filled, not deleted rows of a valid lot formset, in order."""
    lots = []
    for form in formset.forms:
        if not form.cleaned_data or form.cleaned_data.get("DELETE"):
            continue
        lots.append(form.service_lot())
    return lots


def lot_initial(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "name": lot.name,
            "estimate": lot.estimate,
            "ceiling_price": lot.ceiling_price,
            "deposit_amount": lot.deposit_amount,
            "deposit_forms": lot.deposit_forms,
        }
        for lot in project.lots.all()
    ]


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("文件名称（留空用文件名）"), max_length=200, required=False)
    file = forms.FileField(label=_("文件"))
    lot = numbers.ModelChoiceField(
        label=_("所属标段/包（可选）"), queryset=Lot.objects.none(), required=False
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "lot", forms.ModelChoiceField).queryset = project.lots.all()


class AmendmentForm(forms.Form):
    title = forms.CharField(label=_("变更标题"), max_length=200)
    body = forms.CharField(label=_("变更内容"), widget=forms.Textarea(attrs={"rows": 6}))
    bid_deadline = BeijingDateTimeField(
        label=_("新的投标截止时间（北京时间，可选）"), required=False
    )
    affects_bid_preparation = forms.BooleanField(
        label=_("影响投标文件编制"), required=False, initial=True
    )


class RetenderForm(forms.Form):
    documents_from = BeijingDateTimeField(label=_("招标文件获取开始（北京时间）"))
    documents_until = BeijingDateTimeField(label=_("招标文件获取截止（北京时间）"))
    questions_until = BeijingDateTimeField(label=_("提问截止（北京时间）"))
    bid_deadline = BeijingDateTimeField(label=_("投标截止/开标时间（北京时间）"))
    deposit_deadline = BeijingDateTimeField(
        label=_("保证金到账截止（北京时间，留空同投标截止）"), required=False
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 3}))
    affects_bid_preparation = forms.BooleanField(label=_("影响投标文件编制"), required=False)


class ReplyForm(forms.Form):
    reply = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 3}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))


# --- Suppliers ------------------------------------------------------------------------------------


class RegistrationForm(forms.Form):
    lot = numbers.ModelChoiceField(label=_("标段/包"), queryset=Lot.objects.none())
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "lot", forms.ModelChoiceField).queryset = project.lots.all()


class QuestionForm(forms.Form):
    text = forms.CharField(
        label=_("问题（匿名提交，答复向所有潜在投标人公开）"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ObjectionForm(forms.Form):
    text = forms.CharField(label=_("对招标文件的异议"), widget=forms.Textarea(attrs={"rows": 3}))


# --- Staff: the statutory calendar ----------------------------------------------------------------


class StatutoryDayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("类型"), choices=StatutoryDay.Kind.choices)
    name = forms.CharField(label=_("名称（如 春节）"), max_length=50, required=False)
    notice = forms.CharField(label=_("依据（国务院办公厅通知）"), max_length=200, required=False)


class RemoveDayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))


# --- The public portal ----------------------------------------------------------------------------


class PortalFilterForm(forms.Form):
    """The portal's filters. Invalid values are ignored rather than refused: it is a public GET."""

    OPEN = "open"
    CLOSED = "closed"

    q = forms.CharField(label=_("标题或项目编号"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("公告类型"),
        required=False,
        choices=[("", _("全部公告类型")), *Announcement.Kind.choices],
    )
    project_kind = forms.ChoiceField(
        label=_("交易类型"),
        required=False,
        choices=[("", _("全部交易类型")), *Project.Kind.choices],
    )
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), (OPEN, _("正在投标")), (CLOSED, _("已截止/已结束"))],
    )
    region = forms.CharField(label=_("行政区划代码"), required=False, max_length=12)
    date_from = forms.DateField(
        label=_("发布日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def values(self) -> dict[str, Any]:
        """The valid filters only (an invalid one is dropped, the others still apply)."""
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if value}
