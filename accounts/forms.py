from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import IntegrityRecord, OrgRole
from accounts.registration import REGISTRABLE_KINDS


class BarForm(forms.Form):
    category = forms.ChoiceField(label=_("类别"), choices=IntegrityRecord.Category.choices)
    source = forms.ChoiceField(label=_("来源"), choices=IntegrityRecord.Source.choices)
    reason = forms.CharField(
        label=_("事由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    decision_number = forms.CharField(label=_("决定文号"), required=False, max_length=100)
    barred_from = forms.DateField(
        label=_("限制开始日"), widget=forms.DateInput(attrs={"type": "date"})
    )
    barred_until = forms.DateField(
        label=_("限制截止日（含；留空表示至解除为止）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=_("解除理由"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


# --- Self-registration and an organization's users ------------------------------------------------


class RegistrationDataForm(forms.Form):
    """The registered data of an organization; the service checks each value's shape again."""

    name = forms.CharField(label=_("机构名称"), max_length=200)
    kind = forms.ChoiceField(
        label=_("主体类型"),
        choices=[(str(k), k.label) for k in REGISTRABLE_KINDS],
    )
    legal_representative = forms.CharField(label=_("法定代表人"), max_length=100)
    basic_account_bank = forms.CharField(label=_("基本账户开户行"), max_length=100)
    basic_account_number = forms.CharField(
        label=_("基本账户账号"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("8 至 32 位数字"),
    )
    region = forms.CharField(
        label=_("行政区划代码"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("6 位数字，例如 440402"),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=100)
    contact_email = forms.EmailField(
        label=_("联系人邮箱"), max_length=254, help_text=_("验证链接将发送到此邮箱")
    )
    contact_phone = forms.CharField(
        label=_("联系人手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("手机号验证将在短信通道接入后提供"),
    )


class RegistrationForm(RegistrationDataForm):
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=30)
    license = forms.FileField(
        label=_("营业执照"),
        help_text=_("PDF、JPEG 或 PNG 文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    username = forms.CharField(
        label=_("管理员用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    display_name = forms.CharField(label=_("管理员姓名"), max_length=100, required=False)
    password1 = forms.CharField(
        label=_("密码"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = ["uscc", "name", "kind"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return cleaned


class VersionForm(RegistrationDataForm):
    license = forms.FileField(
        label=_("营业执照（如有变更）"),
        required=False,
        help_text=_("不上传则沿用上一版"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class ReturnForm(forms.Form):
    reasons = forms.CharField(
        label=_("退回理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class OrgRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("机构内角色"), choices=OrgRole.choices, widget=forms.CheckboxSelectMultiple
    )


class InviteForm(OrgRolesForm):
    email = forms.EmailField(label=_("邮箱"), max_length=254)
    display_name = forms.CharField(label=_("姓名"), max_length=100, required=False)

    field_order = ["email", "display_name", "roles"]


class AcceptInvitationForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=1000)
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    display_name = forms.CharField(label=_("姓名"), max_length=100, required=False)
    password1 = forms.CharField(
        label=_("密码"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return cleaned


class TokenForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=1000)
