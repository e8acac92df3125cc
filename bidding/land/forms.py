"""Forms of the land listing pages. They only parse input into a service's arguments: every rule (amounts,
the timeline, the maximum price against the increment, who may key in the reserve) is
`bidding.land.services`', and its Chinese message is shown next to the kept input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from bidding.forms import BeijingDateTimeField
from bidding.models import LandListing

NUMBER = {"inputmode": "numeric", "autocomplete": "off"}
MONEY = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}

# Planning indicators (规划指标) the form asks for, in the order the listing page shows them.
PLANNING = (
    ("plot_ratio", _("容积率")),
    ("building_density", _("建筑密度")),
    ("green_ratio", _("绿地率")),
    ("height_limit", _("建筑限高")),
    ("other", _("其他规划条件")),
)


def planning_label(key: str) -> str:
    return str(dict(PLANNING).get(key, key))


def _text(
    label: Any, *, required: bool = True, initial: Any = None, help_text: Any = "", attrs=None
):
    # Plain text: the service parses and judges every number, so its message is the one shown.
    return forms.CharField(
        label=label,
        required=required,
        initial=initial,
        max_length=200,
        help_text=help_text,
        widget=forms.TextInput(attrs=attrs or NUMBER),
    )


class ReserveStaffField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name or obj.username}（{obj.username}）"


class ListingSetupForm(forms.Form):
    parcel_number = _text(_("宗地编号"), attrs={"autocomplete": "off"})
    location = _text(_("土地位置"), attrs={"autocomplete": "off"})
    area = _text(_("出让面积（平方米）"), attrs=MONEY)
    land_use = forms.ChoiceField(label=_("土地用途"), choices=LandListing.Use.choices)
    term_years = _text(_("出让年限（年）"), initial=70)
    plot_ratio = _text(_("容积率"), required=False, attrs={"autocomplete": "off"})
    building_density = _text(_("建筑密度"), required=False, attrs={"autocomplete": "off"})
    green_ratio = _text(_("绿地率"), required=False, attrs={"autocomplete": "off"})
    height_limit = _text(_("建筑限高"), required=False, attrs={"autocomplete": "off"})
    other = _text(_("其他规划条件"), required=False, attrs={"autocomplete": "off"})
    start_price = _text(_("起始价（元）"), attrs=MONEY, help_text=_("最多两位小数。"))
    increment = _text(
        _("加价幅度（元）"), attrs=MONEY, help_text=_("每次加价须为加价幅度的整数倍。")
    )
    max_price = _text(
        _("最高限价（元）"),
        required=False,
        attrs=MONEY,
        help_text=_("留空为不设最高限价；设置时与起始价之差须为加价幅度的整数倍。"),
    )
    cap_mode = forms.ChoiceField(
        label=_("达到最高限价后"),
        required=False,
        choices=[("", _("（不设最高限价）")), *LandListing.CapMode.choices],
    )
    housing_step = _text(
        _("配建面积加价幅度（平方米）"),
        initial="10",
        attrs=MONEY,
        help_text=_("仅竞配建方式使用。"),
    )
    offer_ceiling = _text(
        _("一次性报价上限（元）"),
        required=False,
        attrs=MONEY,
        help_text=_("仅一次性报价方式使用；留空不设上限。"),
    )
    listing_starts_at = BeijingDateTimeField(
        label=_("挂牌开始（北京时间）"),
        help_text=_("距出让公告发布不少于 20 日。"),
    )
    listing_ends_at = BeijingDateTimeField(
        label=_("挂牌截止（北京时间）"),
        help_text=_("挂牌期不少于 10 个工作日；报名和保证金截止须早于此时间。"),
    )
    reserve_staff = ReserveStaffField(
        label=_("底价录入人"),
        queryset=User.objects.none(),
        help_text=_("指定一名交易中心工作人员在底价锁定前录入底价；录入后密封，不可更改。"),
    )
    reserve_lock_minutes = _text(
        _("底价锁定（截止前分钟）"), initial=60, help_text=_("此时间之后不能再录入底价。")
    )
    confirm_seconds = _text(
        _("确认参加限时竞价时限（秒）"),
        initial=300,
        help_text=_("挂牌截止时有两家以上竞买人报价的，在此时限内确认是否参加限时竞价。"),
    )
    live_seconds = _text(
        _("限时竞价倒计时（秒）"),
        initial=240,
        help_text=_("每次有效报价后倒计时重新开始；倒计时结束无人报价即结束。"),
    )
    cap_window_seconds = _text(_("限价后程序时限（秒）"), initial=600)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Roles are groups (accounts.models.User.role); the service checks the choice again.
        self.fields["reserve_staff"].queryset = User.objects.filter(
            groups__name=Role.CENTER_STAFF, is_active=True
        ).order_by("username")

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        planning = {
            key: data[key].strip() for key, _label in PLANNING if (data.get(key) or "").strip()
        }
        names = (
            "parcel_number",
            "location",
            "area",
            "land_use",
            "term_years",
            "start_price",
            "increment",
            "max_price",
            "cap_mode",
            "housing_step",
            "offer_ceiling",
            "listing_starts_at",
            "listing_ends_at",
            "reserve_staff",
            "reserve_lock_minutes",
            "confirm_seconds",
            "live_seconds",
            "cap_window_seconds",
        )
        return {**{name: data[name] for name in names}, "planning": planning}


class ReserveForm(forms.Form):
    amount = _text(
        _("底价（元）"),
        attrs={**MONEY, "autocomplete": "off"},
        help_text=_("最多两位小数。提交后立即密封，任何人（包括您本人）在结果产生前都无法查看。"),
    )


class OfferForm(forms.Form):
    price = _text(_("一次性报价（元）"), attrs=MONEY)


class RefusalForm(forms.Form):
    reason = forms.CharField(
        label=_("放弃的事实"),
        required=False,
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("竞得人拒绝签署成交确认书或出让合同的事实。保证金不予退还，并限制其参与交易。"),
    )
