"""The agent's auction setup form. It only parses input into `services.create_auction`'s arguments;
every rule (amounts, ranges, the step against the start price, the start after registration) is the
service's, and its Chinese message is shown next to the kept input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from bidding.forms import BeijingDateTimeField
from bidding.models import Auction

NUMBER = {"inputmode": "numeric", "autocomplete": "off"}
MONEY = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}


def _text(
    label: Any, *, required: bool = True, initial: Any = None, help_text: Any = "", attrs=None
):
    # Plain text: the service parses and judges every number, so its message is the one shown.
    return forms.CharField(
        label=label,
        required=required,
        initial=initial,
        max_length=40,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs or NUMBER),
    )


class AuctionSetupForm(forms.Form):
    format = forms.ChoiceField(
        label=_("竞价方式"), choices=Auction.Format.choices, initial=Auction.Format.OPEN
    )
    start_price = _text(_("起始价（元）"), attrs=MONEY, help_text=_("最多两位小数。"))
    step = _text(_("竞价幅度（元）"), attrs=MONEY, help_text=_("每次降价须为幅度的整数倍。"))
    max_change = _text(
        _("单次最大降价（元）"), required=False, attrs=MONEY, help_text=_("防误操作；留空不限。")
    )
    starts_at = BeijingDateTimeField(label=_("开始时间（北京时间）"))
    duration_seconds = _text(_("竞价时长（秒）"), initial=1800)
    extension_window_seconds = _text(
        _("延时触发窗口（秒）"),
        initial=120,
        help_text=_("结束前这段时间内有有效报价，结束时间顺延。"),
    )
    extension_seconds = _text(_("延时时长（秒）"), initial=120)
    max_extensions = _text(_("最多延时次数"), required=False, help_text=_("留空不限。"))
    min_participants = _text(_("最少竞价人数"), initial=3)
    public_view = forms.BooleanField(label=_("允许公众旁观"), required=False, initial=True)
    rounds = _text(_("轮数（多轮次）"), initial=3)
    turn_seconds = _text(_("每次报价时长（秒，多轮次）"), initial=120)
    pause_seconds = _text(_("轮间休息（秒，多轮次）"), initial=120)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {name: data[name] for name in self.fields}
