from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import IntegrityRecord


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
