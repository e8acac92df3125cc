"""Forms of the bidding pages. They only parse input into a service's arguments; every rule (the code's
length, deadlines, who may act) is the service's, shown next to the kept input. The price is read by
`lib.money.AmountFormField`, the same parser the service applies to the text it is handed.

A price is never put back into a re-rendered form, nor a decryption code: the page after a failed
submission must not carry either (see tests/bidding/test_permission_matrix.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from bidding.models import Evaluation
from experts.models import DrawRequest
from lib import numbers
from lib.forms import form_field
from lib.money import AmountFormField
from trading.models import Lot

BEIJING = ZoneInfo("Asia/Shanghai")
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class BidForm(forms.Form):
    price = AmountFormField(
        label=_("投标报价（元）"),
        help_text=_(
            "以元为单位，最多两位小数，例如 35800000.00。报价在开标前加密保存，任何人无法查看。"
        ),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    decryption_code = forms.CharField(
        label=_("解密口令"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
        help_text=_("至少 8 位。开标时须凭此口令在线解密；平台不保存口令，遗失无法找回。"),
    )
    decryption_code_again = forms.CharField(
        label=_("再次输入解密口令"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    files = MultipleFileField(label=_("投标文件"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decryption_code") != data.get("decryption_code_again"):
            self.add_error("decryption_code_again", _("两次输入的解密口令不一致。"))
        return data


class DecryptForm(forms.Form):
    decryption_code = forms.CharField(
        label=_("解密口令"),
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )


class RespondForm(forms.Form):
    CONFIRM, OBJECT = "confirm", "object"
    answer = forms.ChoiceField(
        label=_("对开标记录"),
        choices=[(CONFIRM, _("确认无误")), (OBJECT, _("提出异议"))],
        widget=forms.RadioSelect,
        initial=CONFIRM,
    )
    # Not stripped: the text is signed as sent (opening.object's details), the service stores it
    # stripped.
    objection = forms.CharField(
        label=_("异议内容"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class TextForm(forms.Form):
    """One required text: an answer, a reply, an objection, a refusal's facts."""

    text = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, label: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label is not None:
            self.fields["text"].label = label


class StartEvaluationForm(forms.Form):
    draw = numbers.ModelChoiceField(
        label=_("专家抽取（须经监督确认）"), queryset=DrawRequest.objects.none()
    )
    scheme = forms.ChoiceField(label=_("评标办法"), choices=Evaluation.Scheme.choices)
    price_weight = numbers.DecimalFormField(
        label=_("价格权重（综合评估法）"),
        required=False,
        places=3,
        minimum=Decimal("0"),
        maximum=Decimal("1"),
        initial=Decimal("0.400"),
        help_text=_("0 到 1 之间；经评审的最低投标价法不使用。"),
    )
    hours = numbers.IntegerFormField(
        label=_("评审时长（小时）"), min_value=1, max_value=72, initial=8
    )

    def __init__(self, *args: Any, lot: Lot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "draw", forms.ModelChoiceField).queryset = DrawRequest.objects.filter(
            project_id=lot.project_id,
            status=DrawRequest.Status.SIGNED_OFF,
            replaces_in__isnull=True,
        ).order_by("-committed_at")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        weight = data.get("price_weight")
        return {
            "draw": data["draw"],
            "scheme": data["scheme"],
            "price_weight": weight if weight is not None else Decimal("1"),
            "hours": data["hours"],
        }


class ScoreForm(forms.Form):
    compliant = forms.TypedChoiceField(
        label=_("是否实质性响应"),
        choices=[("yes", _("响应")), ("no", _("否决"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        initial="yes",
    )
    rejection_reason = forms.CharField(label=_("否决理由"), required=False, max_length=200)
    technical_points = numbers.DecimalFormField(
        label=_("技术得分（0–100，综合评估法）"),
        required=False,
        places=2,
        minimum=Decimal("0"),
        maximum=Decimal("100"),
    )


class DissentForm(forms.Form):
    dissent = forms.CharField(
        label=_("不同意见（将与签署一并记录）"),
        required=False,
        strip=False,  # signed as sent (evaluation.dissent's details); stored stripped
        # Only the dissent form shows it: signing without a dissent is the other form.
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
    )


class BeijingDateTimeField(forms.DateTimeField):
    """<input type="datetime-local"> read as Beijing time."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT)

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        for fmt in (LOCAL_INPUT_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"):
            try:
                return dt.datetime.strptime(str(value).strip(), fmt).replace(tzinfo=BEIJING)
            except ValueError:
                continue
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class ContractForm(forms.Form):
    signed_at = BeijingDateTimeField(
        label=_("合同签订时间（北京时间，留空为现在）"), required=False
    )


# --- 竞争性谈判/磋商 -----------------------------------------------------------------------------


class RoundForm(forms.Form):
    """One round: its changes and the suppliers still in that it puts out (checkboxes)."""

    changes = forms.CharField(
        label=_("本轮实质性变动内容"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("对采购需求、合同条款的变动，将同时告知所有仍在谈判/磋商的供应商。"),
    )
    excluded = numbers.ModelMultipleChoiceField(
        label=_("本轮淘汰的供应商（未实质性响应）"),
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, suppliers: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        excluded = form_field(self, "excluded", forms.ModelMultipleChoiceField)
        excluded.queryset = Organization.objects.filter(pk__in=suppliers).order_by("pk")


class FinalCallForm(forms.Form):
    closes_at = BeijingDateTimeField(label=_("最后报价截止时间（北京时间）"))


class FinalQuoteForm(forms.Form):
    price = AmountFormField(
        label=_("最后报价（元）"),
        help_text=_(
            "以元为单位，最多两位小数。提交后立即加密，截止时统一开启；只能提交一次，不得更改。"
        ),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
