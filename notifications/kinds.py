"""Every kind of notice the platform sends: its text, its default channels, and whether it is a legal
deadline that the recipient cannot switch off entirely.

A notice stores its kind and parameters, not its words: the words are rendered in the reader's language
when the notice is shown or sent (`render`). Parameters are plain strings chosen by the caller, and a
caller names only what the recipient may see at that moment (docs/notifications.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

INAPP = "inapp"
EMAIL = "email"
SMS = "sms"
CHANNELS: tuple[str, ...] = (INAPP, EMAIL, SMS)
# Channels a person can reach beyond the platform; a legal kind keeps at least one of them on.
OUTSIDE_CHANNELS: tuple[str, ...] = (EMAIL, SMS)


@dataclass(frozen=True)
class Kind:
    code: str
    label: str | Promise
    title: str | Promise
    body: str | Promise = ""
    channels: frozenset[str] = field(default_factory=lambda: frozenset({INAPP, EMAIL}))
    # A legal deadline or a right that lapses: the in-app notice always stays, and at least one
    # outside channel stays on (preferences.py refuses switching both off).
    legal: bool = False


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    if kind.code in _KINDS and _KINDS[kind.code] != kind:
        raise ValueError(f"notice kind {kind.code!r} registered twice")
    _KINDS[kind.code] = kind
    return kind


def get(code: str) -> Kind:
    return _KINDS[code]


def exists(code: str) -> bool:
    return code in _KINDS


def all_kinds() -> list[Kind]:
    return sorted(_KINDS.values(), key=lambda k: k.code)


class _Params(dict[str, str]):
    """Missing parameters render as an empty string instead of failing the whole page."""

    def __missing__(self, key: str) -> str:
        return ""


def render(template: str | Promise, params: Mapping[str, object]) -> str:
    text = str(template)
    if not text:
        return ""
    try:
        return text % _Params({k: "" if v is None else str(v) for k, v in params.items()})
    except (TypeError, ValueError):
        return text


ALL = frozenset(CHANNELS)
INAPP_ONLY = frozenset({INAPP})
INAPP_EMAIL = frozenset({INAPP, EMAIL})

for _kind in (
    # A message written before kinds existed (and the legacy per-organization notices migrated).
    Kind("message", _("消息"), "%(title)s", "%(body)s", INAPP_ONLY),
    # accounts
    Kind(
        "organization.approved",
        _("主体注册通过"),
        _("主体注册已通过审核：%(organization)s"),
        _("贵单位已可参与交易。"),
        INAPP_EMAIL,
    ),
    Kind(
        "organization.returned",
        _("主体注册退回"),
        _("主体注册被退回：%(organization)s"),
        _("退回理由：%(reasons)s。请修改后重新提交。"),
        ALL,
    ),
    Kind(
        "phone.verification",
        _("手机验证码"),
        _("bidhall 手机验证码：%(code)s，%(minutes)s 分钟内有效。"),
        "",
        frozenset({SMS}),
    ),
    # trading
    Kind("project.approved", _("进场登记通过"), _("进场登记已通过：%(project)s"), "", INAPP_EMAIL),
    Kind(
        "project.returned",
        _("进场登记退回"),
        _("进场登记被退回：%(project)s"),
        _("退回理由：%(reason)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "tender.amended", _("更正公告"), _("更正公告：%(project)s"), _("%(summary)s"), INAPP_EMAIL
    ),
    Kind("tender.clarified", _("澄清"), _("澄清：%(project)s"), _("%(summary)s"), INAPP_EMAIL),
    Kind("question.answered", _("答疑"), _("答疑已发布：%(project)s"), "", INAPP_EMAIL),
    Kind(
        "deadline.moved",
        _("截止时间变更"),
        _("投标截止时间变更：%(project)s"),
        _("新的截止时间：%(deadline)s"),
        ALL,
        legal=True,
    ),
    Kind("tender.terminated", _("终止公告"), _("项目终止：%(project)s"), _("%(reason)s"), ALL),
    Kind("tender.suspended", _("暂停"), _("项目暂停：%(project)s"), _("%(reason)s"), INAPP_EMAIL),
    Kind("tender.resumed", _("恢复"), _("项目恢复：%(project)s"), _("%(summary)s"), INAPP_EMAIL),
    Kind("tender.invited", _("投标邀请"), _("投标邀请：%(project)s"), "", INAPP_EMAIL),
    Kind(
        "registration.confirmed",
        _("报名确认"),
        _("报名已确认：%(project)s %(lot)s"),
        "",
        INAPP_EMAIL,
    ),
    Kind("question.asked", _("新的提问"), _("收到新的提问：%(project)s"), "", INAPP_EMAIL),
    Kind(
        "objection.raised",
        _("异议/质疑"),
        _("收到异议/质疑：%(project)s"),
        _("答复截止：%(deadline)s"),
        ALL,
        legal=True,
    ),
    Kind("objection.answered", _("异议答复"), _("异议/质疑已答复：%(project)s"), "", INAPP_EMAIL),
    # deposits
    Kind(
        "deposit.received",
        _("保证金到账"),
        _("保证金已到账：%(lot)s %(amount)s 元"),
        "",
        INAPP_EMAIL,
    ),
    Kind("deposit.qualified", _("保证金合格"), _("保证金已确认合格：%(lot)s"), "", INAPP_EMAIL),
    Kind(
        "deposit.late",
        _("保证金逾期"),
        _("保证金逾期到账：%(lot)s"),
        _("该笔保证金不计入本标段，将按规定退还。"),
        ALL,
    ),
    Kind(
        "deposit.refunded",
        _("保证金退还"),
        _("保证金已退还：%(lot)s %(amount)s 元"),
        "",
        INAPP_EMAIL,
    ),
    Kind(
        "deposit.forfeited", _("保证金不予退还"), _("保证金不予退还：%(lot)s"), _("%(reason)s"), ALL
    ),
    # bidding
    # 竞争性谈判/磋商 (bidding/negotiation.py)
    Kind(
        "negotiation.round",
        _("谈判/磋商变动"),
        _("谈判/磋商第 %(number)s 轮变动：%(lot)s"),
        _("采购需求或合同条款有实质性变动，请查看并按要求响应。"),
        ALL,
        legal=True,
    ),
    Kind(
        "negotiation.excluded",
        _("谈判/磋商淘汰"),
        _("未通过谈判/磋商：%(lot)s"),
        "",
        INAPP_EMAIL,
    ),
    Kind(
        "final_quote.called",
        _("最后报价"),
        _("请提交最后报价：%(lot)s"),
        _("截止 %(deadline)s，只能提交一次"),
        ALL,
        legal=True,
    ),
    Kind(
        "final_quote.receipt",
        _("最后报价回执"),
        _("最后报价已送达：%(lot)s"),
        _("回执编号：%(receipt)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "bid.receipt",
        _("投标回执"),
        _("投标文件已送达：%(lot)s"),
        _("回执编号：%(receipt)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "opening.started",
        _("开标"),
        _("开标开始，请在 %(deadline)s 前解密：%(lot)s"),
        "",
        ALL,
        legal=True,
    ),
    Kind("opening.result", _("开标结果"), _("开标结果：%(lot)s"), "", INAPP_EMAIL),
    Kind("lot.failed", _("流标"), _("流标：%(lot)s"), _("%(reason)s"), INAPP_EMAIL),
    Kind(
        "evaluation.started",
        _("评标开始"),
        _("评标开始：%(lot)s"),
        _("地点/时间：%(when)s"),
        ALL,
        legal=True,
    ),
    Kind(
        "candidates.published",
        _("中标候选人公示"),
        _("中标候选人公示：%(lot)s"),
        _("公示截止：%(deadline)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "opening.objected",
        _("开标记录异议"),
        _("投标人对开标记录提出异议：%(lot)s"),
        _("请当场答复并记录。"),
        INAPP_EMAIL,
    ),
    Kind(
        "opening.objection_answered",
        _("开标记录异议答复"),
        _("开标记录异议已答复：%(lot)s"),
        "",
        INAPP_EMAIL,
    ),
    # The winner is told it won; every other bidder only that the result is published.
    Kind(
        "award.won",
        _("中标/成交通知书"),
        _("贵单位为中标/成交人：%(lot)s"),
        _("中标/成交通知书已发出，请查看并按期签订合同。"),
        ALL,
    ),
    Kind("award.notified", _("中标/成交结果"), _("中标/成交结果已公布：%(lot)s"), "", ALL),
    Kind(
        "contract.due",
        _("合同签订期限"),
        _("请在 %(deadline)s 前签订合同：%(lot)s"),
        "",
        ALL,
        legal=True,
    ),
    # The winner refused the award or the contract (条例 Art.74): it is told what that costs; the agent
    # that the award may pass to the next candidate. Neither notice names the winner or a price.
    Kind(
        "award.annulled",
        _("中标结果无效"),
        _("监督部门认定贵单位的中标/成交结果无效：%(lot)s"),
        _("详见投诉处理决定。"),
        ALL,
    ),
    Kind(
        "award.refused",
        _("放弃中标/拒签"),
        _("已记录贵单位放弃中标/拒签合同：%(lot)s"),
        _("保证金可能不予退还，并按规定记入诚信记录。"),
        ALL,
    ),
    Kind(
        "award.reassign",
        _("中标人放弃/拒签"),
        _("中标人放弃中标/拒签合同：%(lot)s"),
        _("可按排序向下一中标候选人发出中标通知书；候选人均已放弃的，应依法重新招标。"),
        INAPP_EMAIL,
    ),
    Kind(
        "contract.signed",
        _("合同签订"),
        _("合同签订已记录：%(lot)s"),
        _("签订时间：%(signed)s"),
        INAPP_EMAIL,
    ),
    # framework agreements (frameworks/, 财政部令第110号): a notice names the agreement, never another
    # member's price before the public 成交结果公告 says it.
    Kind(
        "framework.admitted",
        _("框架协议入围"),
        _("贵单位已入围框架协议：%(agreement)s"),
        _("%(project)s；详见入围结果公告。"),
        ALL,
    ),
    Kind(
        "framework.not_admitted",
        _("框架协议未入围"),
        _("贵单位未入围框架协议：%(agreement)s"),
        _("%(project)s；详见入围结果公告。"),
        INAPP_EMAIL,
    ),
    Kind(
        "framework.second_round",
        _("二次竞价"),
        _("请参加二次竞价：%(agreement)s"),
        _("报价截止 %(deadline)s，只能报价一次，不得超过协议价格"),
        ALL,
        legal=True,
    ),
    Kind(
        "framework.quote_receipt",
        _("二次竞价回执"),
        _("二次竞价报价已送达：%(agreement)s"),
        _("回执编号：%(receipt)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "framework.awarded",
        _("框架协议成交"),
        _("贵单位获得框架协议第 %(number)s 笔采购：%(agreement)s"),
        _("成交金额 %(amount)s 元"),
        ALL,
    ),
    Kind(
        "framework.awarded_agent",
        _("框架协议成交"),
        _("框架协议第 %(number)s 笔采购已成交：%(agreement)s"),
        "",
        INAPP_EMAIL,
    ),
    Kind(
        "framework.round_failed",
        _("二次竞价失败"),
        _("框架协议第 %(number)s 笔二次竞价无有效报价：%(agreement)s"),
        _("可以重新发起采购。"),
        INAPP_EMAIL,
    ),
    Kind(
        "framework.terminated",
        _("框架协议终止"),
        _("框架协议已终止：%(agreement)s"),
        "",
        ALL,
    ),
    # contracts (合同与履约): each party hears of the other's acts on the contract
    Kind(
        "contract.drafted",
        _("合同待签署"),
        _("合同已起草，请审阅并签署：%(lot)s"),
        _("合同编号 %(contract)s，请在 %(deadline)s 前签订。"),
        ALL,
        legal=True,
    ),
    Kind(
        "contract.party_signed",
        _("对方已签署合同"),
        _("对方已签署合同第 %(version)s 版：%(lot)s"),
        _("合同编号 %(contract)s，请审阅并签署。"),
        INAPP_EMAIL,
    ),
    Kind(
        "contract.effective",
        _("合同生效"),
        _("合同第 %(version)s 版经双方签署生效：%(lot)s"),
        _("合同编号 %(contract)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "contract.amended",
        _("合同变更待签署"),
        _("合同第 %(version)s 版待签署：%(lot)s"),
        _("变更理由：%(reason)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "contract.delivered",
        _("履约交付"),
        _("已记录履约交付：%(lot)s"),
        _("%(milestone)s"),
        INAPP_ONLY,
    ),
    Kind(
        "contract.acceptance",
        _("履约验收"),
        _("履约验收结论：%(result)s：%(lot)s"),
        _("%(remarks)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "contract.issue",
        _("履约问题"),
        _("已记录履约问题：%(lot)s"),
        _("%(kind)s（%(severity)s）：%(description)s"),
        ALL,
    ),
    Kind(
        "contract.issue_serious",
        _("严重履约问题"),
        _("严重履约问题待处理：%(lot)s"),
        _("合同编号 %(contract)s，可依法记入不良行为记录。"),
        INAPP_EMAIL,
    ),
    Kind(
        "contract.terminated",
        _("合同终止"),
        _("合同已终止：%(lot)s"),
        _("终止理由：%(reason)s"),
        ALL,
    ),
    # live rooms
    Kind(
        "auction.starting",
        _("竞价即将开始"),
        _("竞价将于 %(start)s 开始：%(lot)s"),
        "",
        ALL,
        legal=True,
    ),
    Kind("auction.extended", _("竞价延时"), _("竞价已延时至 %(end)s：%(lot)s"), "", INAPP_ONLY),
    Kind("auction.closed", _("竞价结束"), _("竞价已结束：%(lot)s"), "", INAPP_EMAIL),
    Kind("auction.result", _("竞价结果"), _("竞价结果已公布：%(lot)s"), "", INAPP_EMAIL),
    Kind(
        "land.live_starting",
        _("限时竞价即将开始"),
        _("限时竞价将于 %(start)s 开始：%(lot)s"),
        "",
        ALL,
        legal=True,
    ),
    Kind(
        "land.confirm_due",
        _("竞买确认"),
        _("请在 %(deadline)s 前确认是否参加限时竞价：%(lot)s"),
        "",
        ALL,
        legal=True,
    ),
    Kind(
        "land.deal_due",
        _("成交确认书签署"),
        _("贵单位为竞得人，请签署成交确认书：%(lot)s"),
        _("成交价 %(price)s 元。未签署的，保证金不予退还。"),
        ALL,
        legal=True,
    ),
    Kind("land.result", _("出让结果"), _("出让结果已公布：%(lot)s"), "", INAPP_EMAIL),
    # The maximum price was reached: the listing's cap mode opens a window or a room.
    Kind(
        "land.cap_accept_due",
        _("接受最高限价"),
        _("报价已达最高限价，请在 %(deadline)s 前确认是否接受最高限价参加摇号：%(lot)s"),
        _("未在时限内确认接受的，不参加摇号。"),
        ALL,
        legal=True,
    ),
    Kind(
        "land.offer_due",
        _("一次性报价"),
        _("报价已达最高限价，请在 %(deadline)s 前提交一次性报价：%(lot)s"),
        _("每家竞买人只能报价一次，报价不得低于最高限价；未报价的不参加。"),
        ALL,
        legal=True,
    ),
    Kind(
        "land.housing_started",
        _("竞配建开始"),
        _("报价已达最高限价，竞报配建保障性住房面积已开始：%(lot)s"),
        "",
        ALL,
        legal=True,
    ),
    Kind(
        "land.refused",
        _("竞得人放弃"),
        _("竞得人放弃竞得，成交不成立：%(lot)s"),
        "",
        INAPP_EMAIL,
    ),
    # experts
    Kind(
        "expert.drawn",
        _("专家抽取"),
        _("您被抽取为评标专家：%(when)s %(place)s"),
        _("请在 %(deadline)s 前确认或拒绝：%(link)s"),
        ALL,
        legal=True,
    ),
    # complaints (投诉): the regulator's deadlines are legal ones for the people who must act on them
    Kind(
        "complaint.filed",
        _("收到投诉"),
        _("收到投诉：%(case)s"),
        _("受理审查期限：%(deadline)s"),
        ALL,
        legal=True,
    ),
    Kind("complaint.received", _("被投诉"), _("项目被投诉：%(case)s"), "", INAPP_EMAIL),
    Kind(
        "complaint.accepted",
        _("投诉受理"),
        _("投诉已受理：%(case)s"),
        _("处理期限：%(deadline)s"),
        INAPP_EMAIL,
    ),
    Kind("complaint.refused", _("投诉不予受理"), _("投诉不予受理：%(case)s"), "", ALL),
    Kind(
        "complaint.material_requested",
        _("调查取证"),
        _("投诉调查取证：%(case)s"),
        _("请在 %(deadline)s 前答复"),
        ALL,
        legal=True,
    ),
    Kind("complaint.material_answered", _("取证答复"), _("取证已答复：%(case)s"), "", INAPP_ONLY),
    Kind(
        "complaint.suspension_ordered",
        _("责令暂停"),
        _("监督部门责令暂停：%(case)s"),
        _("暂停至 %(deadline)s"),
        INAPP_EMAIL,
    ),
    Kind(
        "complaint.decided",
        _("投诉处理决定"),
        _("投诉处理决定：%(case)s"),
        _("%(outcome)s"),
        ALL,
        legal=True,
    ),
    Kind("complaint.withdrawn", _("投诉撤回"), _("投诉已撤回：%(case)s"), "", INAPP_EMAIL),
    # supervision
    Kind("alert.raised", _("监督预警"), _("预警：%(title)s"), _("%(summary)s"), INAPP_EMAIL),
    # delivery (delivery.py): center staff learn that an email or SMS could not be sent
    Kind(
        "delivery.failed",
        _("通知发送失败"),
        _("通知发送失败：%(channel)s %(address)s"),
        _("服务商应答：%(answer)s"),
        INAPP_ONLY,
    ),
    # any deadline a person must act on, ahead of time (todo.py's reminders)
    Kind(
        "deadline.reminder",
        _("截止提醒"),
        _("截止提醒：%(action)s，截止 %(deadline)s"),
        _("%(subject)s"),
        ALL,
        legal=True,
    ),
):
    register(_kind)
