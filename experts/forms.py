"""Forms of the expert pages. They only parse input into a service's arguments; every rule (years in the
field, committee composition, quotas, who may answer) is checked by experts.services, whose DomainError
the page shows next to the kept input."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Role, User
from experts.models import DrawRequest, Employment, Expert, Relation, Specialty
from lib import numbers
from lib.forms import form_field
from trading.forms import BeijingDateTimeField
from trading.models import Lot, Project

REGION_HINT = _("行政区划代码前缀，多个用逗号或空格分隔，例如 4404, 440402")


def _specialty_choices(blank: str | None = None) -> list[tuple[str, str]]:
    choices = [(s.code, f"{s.code} {s.name}") for s in Specialty.objects.order_by("code")]
    return [("", blank), *choices] if blank is not None else choices


def _regions(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,，、;；]+", text or "") if part]


class OrganizationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Organization) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


def _organizations() -> Any:
    return Organization.objects.filter(is_active=True).order_by("kind", "name")


# --- The pool -------------------------------------------------------------------------------------


class PoolFilterForm(forms.Form):
    q = forms.CharField(
        label=_("姓名"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("姓名"), "aria-label": _("姓名")}),
    )
    specialty = forms.ChoiceField(label=_("专业"), required=False)
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *Expert.Status.choices]
    )
    region = forms.CharField(
        label=_("地区代码"),
        required=False,
        max_length=12,
        widget=forms.TextInput(
            attrs={"placeholder": _("地区代码前缀，如 4404"), "aria-label": _("地区代码")}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "specialty", forms.ChoiceField).choices = _specialty_choices(
            str(_("全部专业"))
        )


class ExpertForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    title = forms.ChoiceField(label=_("职称"), choices=Expert.Title.choices)
    years_in_field = numbers.IntegerFormField(label=_("从业年限"), min_value=0, max_value=80)
    region = forms.CharField(label=_("所在地区（行政区划代码）"), max_length=12, initial="440400")
    specialties = forms.MultipleChoiceField(
        label=_("专业"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    employer = OrganizationChoiceField(
        label=_("工作单位"), queryset=Organization.objects.none(), required=False
    )
    user = numbers.ModelChoiceField(
        label=_("登录账号（评标专家）"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("关联后，专家可登录查看并确认本人的评标任务。"),
    )
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "specialties", forms.ChoiceField).choices = _specialty_choices()
        form_field(self, "employer", forms.ModelChoiceField).queryset = _organizations()
        form_field(self, "user", forms.ModelChoiceField).queryset = User.objects.filter(
            groups__name=Role.EXPERT, expert__isnull=True, is_active=True
        ).order_by("username")


class TieForm(forms.Form):
    organization = OrganizationChoiceField(label=_("机构"), queryset=Organization.objects.none())
    role = forms.ChoiceField(label=_("关系"), choices=Employment.Role.choices)
    start = forms.DateField(label=_("起"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label=_("止（仍在职留空）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "tie")
        super().__init__(*args, **kwargs)
        form_field(self, "organization", forms.ModelChoiceField).queryset = _organizations()


class RelationForm(forms.Form):
    organization = OrganizationChoiceField(label=_("机构"), queryset=Organization.objects.none())
    kind = forms.ChoiceField(label=_("类型"), choices=Relation.Kind.choices)
    person_name = forms.CharField(label=_("关系人"), max_length=50, required=False)
    description = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "relation")
        super().__init__(*args, **kwargs)
        form_field(self, "organization", forms.ModelChoiceField).queryset = _organizations()


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=Expert.Status.choices)
    until = forms.DateField(
        label=_("截止日（含；留空为直至解除）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    reason = forms.CharField(
        label=_("原因"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "status")
        super().__init__(*args, **kwargs)


# --- Draws ----------------------------------------------------------------------------------------


class LotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Lot) -> str:
        return f"{obj.project.number} · {obj.number}. {obj.name}"


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.number} {obj.title}"


class DrawForm(forms.Form):
    project = ProjectChoiceField(label=_("项目"), queryset=Project.objects.none())
    lot = LotChoiceField(
        label=_("标段/包（整个项目抽取留空）"), queryset=Lot.objects.none(), required=False
    )
    panel = forms.ChoiceField(
        label=_("组别"), choices=DrawRequest.Panel.choices, initial=DrawRequest.Panel.COMMITTEE
    )
    committee_size = numbers.IntegerFormField(
        label=_("成员总数"), min_value=1, max_value=99, initial=5
    )
    owner_representatives = numbers.IntegerFormField(
        label=_("招标人代表人数"), min_value=0, max_value=99, initial=0
    )
    alternates = numbers.IntegerFormField(
        label=_("每个专业的候补人数"), min_value=0, max_value=99, initial=2
    )
    allowed_regions = forms.CharField(
        label=_("限定地区"), required=False, max_length=200, help_text=REGION_HINT
    )
    excluded_regions = forms.CharField(
        label=_("排除地区"), required=False, max_length=200, help_text=REGION_HINT
    )
    evaluation_at = BeijingDateTimeField(label=_("评标时间（北京时间）"))
    supervisor = numbers.ModelChoiceField(
        label=_("现场监督"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        announced = Project.objects.filter(status=Project.Status.PUBLISHED)
        form_field(self, "project", forms.ModelChoiceField).queryset = announced.order_by(
            "-published_at", "-pk"
        )
        form_field(self, "lot", forms.ModelChoiceField).queryset = (
            Lot.objects.filter(project__in=announced)
            .select_related("project")
            .order_by("project__number", "number")
        )
        form_field(self, "supervisor", forms.ModelChoiceField).queryset = User.objects.filter(
            groups__name=Role.SUPERVISOR, is_active=True
        ).order_by("username")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        lot, project = data.get("lot"), data.get("project")
        if lot is not None and project is not None and lot.project_id != project.pk:
            self.add_error("lot", _("该标段/包不属于所选项目。"))
        return data

    def service_fields(self, quotas: list[dict[str, Any]]) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        return {
            "lot": data["lot"],
            "panel": data["panel"],
            "committee_size": data["committee_size"],
            "owner_representatives": data["owner_representatives"],
            "alternates": data["alternates"],
            "allowed_regions": _regions(data["allowed_regions"]),
            "excluded_regions": _regions(data["excluded_regions"]),
            "evaluation_at": data["evaluation_at"],
            "supervisor": data["supervisor"],
            "quotas": quotas,
        }


class QuotaForm(forms.Form):
    specialty = forms.ChoiceField(label=_("专业"), required=False)
    count = numbers.IntegerFormField(label=_("人数"), min_value=1, max_value=99, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "specialty", forms.ChoiceField).choices = _specialty_choices("—")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if bool(data.get("specialty")) != bool(data.get("count")):
            raise forms.ValidationError(_("请同时填写专业和人数。"))
        return data


QuotaFormSet = forms.formset_factory(QuotaForm, extra=4, max_num=20)


def quotas_from(formset: Any) -> list[dict[str, Any]]:
    return [
        {"specialty": form.cleaned_data["specialty"], "count": form.cleaned_data["count"]}
        for form in formset.forms
        if form.cleaned_data.get("specialty")
    ]


class ReplacementForm(forms.Form):
    quota = numbers.IntegerFormField(min_value=0, widget=forms.HiddenInput)


# --- The drawn expert and ratings -----------------------------------------------------------------


class RespondForm(forms.Form):
    answer = forms.ChoiceField(
        choices=[("confirm", _("确认参加")), ("decline", _("谢绝"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(label=_("谢绝原因"), max_length=200, required=False)

    @property
    def confirm(self) -> bool:
        answer: str = self.cleaned_data["answer"]
        return answer == "confirm"


GRADES = [(str(n), str(n)) for n in range(5, 0, -1)]


class RatingForm(forms.Form):
    attended = forms.BooleanField(label=_("按时到场"), required=False, initial=True)
    recusal_complied = forms.BooleanField(label=_("如实回避"), required=False, initial=True)
    grade = forms.TypedChoiceField(label=_("评价（1–5）"), choices=GRADES, coerce=int, initial="4")
    score_deviation_flagged = forms.BooleanField(label=_("评分明显偏离"), required=False)
    note = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExpertApplicationForm(forms.Form):
    """A person's application to the expert pool (专家申请); experts.applications checks it again."""

    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(label=_("身份证号码"), max_length=18)
    title = forms.ChoiceField(label=_("职称"), choices=Expert.Title.choices)
    years_in_field = numbers.IntegerFormField(label=_("从业年限"), min_value=0, max_value=70)
    region = forms.CharField(
        label=_("所在地区（行政区划代码）"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    employer = forms.CharField(label=_("工作单位"), max_length=200)
    employer_uscc = forms.CharField(
        label=_("工作单位统一社会信用代码"),
        max_length=18,
        required=False,
        help_text=_("单位已在本平台登记时填写，用于回避审查"),
    )
    specialties = forms.MultipleChoiceField(
        label=_("专业"), choices=[], widget=forms.CheckboxSelectMultiple
    )
    email = forms.EmailField(label=_("邮箱"), max_length=254)
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
        help_text=_("手机号验证将在短信通道接入后提供"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "specialties", forms.MultipleChoiceField).choices = _specialty_choices()


class ExpertResubmitForm(ExpertApplicationForm):
    """A returned application fixed through the status link: the email stays the verified one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["email"]


class ExpertReturnForm(forms.Form):
    reasons = forms.CharField(
        label=_("退回理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class ExpertApproveForm(forms.Form):
    username = forms.CharField(label=_("用户名（留空则自动生成）"), max_length=150, required=False)
