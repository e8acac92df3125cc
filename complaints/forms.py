"""Forms of the complaint pages. They only parse input into a service's arguments; every rule (the
filing window, statuses, the suspension cap, who may act) is `complaints.services`', whose DomainError
the page shows next to the kept input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from complaints.models import Complaint, MaterialRequest
from complaints.queries import Prior
from lib import numbers
from lib.forms import form_field
from trading.forms import BeijingDateTimeField

NO_OBJECTION = "none"


def _text(label: Any, rows: int = 4) -> forms.CharField:
    # The services refuse blank text with their own message; the field only keeps what was typed.
    return forms.CharField(
        label=label, required=False, widget=forms.Textarea(attrs={"rows": rows}), strip=False
    )


class FileForm(forms.Form):
    prior = forms.ChoiceField(label=_("针对的异议/质疑"), widget=forms.RadioSelect, choices=())
    subject = forms.ChoiceField(label=_("投诉事项（不经异议的投诉）"), required=False, choices=())
    knew_at = BeijingDateTimeField(
        label=_("知道或应当知道投诉事项之时（北京时间，不经异议的投诉）"), required=False
    )
    facts = _text(_("事实与理由"), rows=6)
    claims = _text(_("投诉请求"), rows=3)

    def __init__(
        self, *args: Any, priors: list[Prior], subjects: list[tuple[str, Any]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, Any]] = [(prior.key, prior.kind) for prior in priors]
        if subjects:
            choices.append((NO_OBJECTION, _("不针对异议（其他违法行为）")))
            form_field(self, "subject", forms.ChoiceField).choices = subjects
        else:
            del self.fields["subject"]
            del self.fields["knew_at"]
        form_field(self, "prior", forms.ChoiceField).choices = choices
        if len(choices) == 1:
            self.fields["prior"].initial = choices[0][0]


class ReasonForm(forms.Form):
    reason = _text(_("理由"), rows=3)


class RequestForm(forms.Form):
    party = forms.ChoiceField(label=_("对象"), choices=MaterialRequest.Party.choices)
    kind = forms.ChoiceField(label=_("类型"), choices=MaterialRequest.Kind.choices)
    text = _text(_("要求"), rows=3)
    due_at = BeijingDateTimeField(label=_("答复期限（北京时间）"))


class SuspendForm(forms.Form):
    reason = _text(_("暂停理由"), rows=2)
    days = numbers.IntegerFormField(label=_("暂停天数"), min_value=1, max_value=365)

    def __init__(self, *args: Any, max_days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The cap is the service's (complaints.rules); the input only hints it.
        self.fields["days"].widget.attrs.update({"max": max_days, "inputmode": "numeric"})
        self.fields["days"].help_text = _("最多 %(n)s 日") % {"n": max_days}


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("处理结果"), choices=Complaint.Outcome.choices)
    remedy = forms.ChoiceField(
        label=_("处理措施"),
        required=False,
        choices=[("", _("（投诉成立时选择）")), *Complaint.Remedy.choices],
    )
    decision = _text(_("处理决定"), rows=5)


class AnswerForm(forms.Form):
    answer = _text(_("答复"), rows=3)


class RequestChoiceField(numbers.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_party_display()} · {obj.text[:40]}"


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("材料名称（留空用文件名）"), max_length=200, required=False)
    file = forms.FileField(label=_("文件"))
    request = RequestChoiceField(
        label=_("对应的调查取证要求（可选）"),
        queryset=MaterialRequest.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, complaint: Complaint, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "request", forms.ModelChoiceField).queryset = complaint.requests.all()
