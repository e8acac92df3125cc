"""The binding acts a party signs (电子签名), by name: what the statement calls the act, the object
it acts on, and what its digest is the hash of.

| act | label | target | digest | details |
|---|---|---|---|---|
| bid.submit | 提交投标文件 | trading.lot | SHA-256 of the uploaded bid document | |
| bid.modify | 修改投标文件 | bidding.bid | SHA-256 of the new bid document | |
| bid.withdraw | 撤回投标文件 | bidding.bid | | |
| opening.confirm | 确认开标记录 | bidding.opening | canonical hash of the opening record | |
| opening.object | 对开标记录提出异议 | bidding.opening | canonical hash of the opening record | text |
| evaluation.sign | 签署评标报告 | bidding.evaluation | hash of the evaluation report | |
| evaluation.dissent | 对评标报告持不同意见 | bidding.evaluation | hash of the evaluation report | text |
| award.accept | 接受中标（成交）结果 | bidding.publicity | hash of the award notice (中标通知书) | |
| contract.sign | 签署合同 | contracts.contract | canonical hash of the version (`ContractVersion.sha256`) | |
| land.confirm | 确认竞得资格 | bidding.landlisting | | |
| land.deal | 签署成交确认书 | bidding.landlisting | hash of the deal confirmation | |
| auction.confirm | 确认竞价结果 | bidding.auction | hash of the auction results | |
| deposit.refund_account | 确认保证金退还账户 | deposits.deposit | canonical hash of the account details | |
| guarantee.issue | 出具电子保函 | deposits.guarantee | hash of the guarantee document | |
| registration.submit | 提交主体注册申请 | accounts.organization | canonical hash of the application | |
| certificate.test | 测试签名（不产生任何业务效力） | signing.certificate | | |

`certificate.test` changes nothing but leaves a `SignedAct`: a holder checks that their key and
certificate work before a real act needs them. `guarantee.issue` is signed with an issuer
certificate (a bank's or guarantor's); every other act with an organization or person certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from signing.models import Certificate

PARTY_KINDS = frozenset({Certificate.Kind.ORGANIZATION.value, Certificate.Kind.PERSON.value})
ISSUER_KINDS = frozenset({Certificate.Kind.ISSUER.value})


@dataclass(frozen=True)
class ActSpec:
    name: str
    label: Promise
    # "app_label.model" of the object the act is done on.
    target_type: str
    # What the digest is the SHA-256 of (shown to the signer); None: the act has no digest.
    digest: Promise | None = None
    # The keys of free text the act carries in its statement (an objection's reasons).
    details: tuple[str, ...] = ()
    certificate_kinds: frozenset[str] = PARTY_KINDS

    def chinese_label(self) -> str:
        """The label as the statement carries it: always Chinese, whatever the reader's language."""
        with translation.override("zh-hans"):
            return str(self.label)


_SPECS = (
    ActSpec("bid.submit", _("提交投标文件"), "trading.lot", digest=_("投标文件")),
    ActSpec("bid.modify", _("修改投标文件"), "bidding.bid", digest=_("修改后的投标文件")),
    ActSpec("bid.withdraw", _("撤回投标文件"), "bidding.bid"),
    ActSpec("opening.confirm", _("确认开标记录"), "bidding.opening", digest=_("开标记录")),
    ActSpec(
        "opening.object",
        _("对开标记录提出异议"),
        "bidding.opening",
        digest=_("开标记录"),
        details=("text",),
    ),
    ActSpec("evaluation.sign", _("签署评标报告"), "bidding.evaluation", digest=_("评标报告")),
    ActSpec(
        "evaluation.dissent",
        _("对评标报告持不同意见"),
        "bidding.evaluation",
        digest=_("评标报告"),
        details=("text",),
    ),
    ActSpec("award.accept", _("接受中标（成交）结果"), "bidding.publicity", digest=_("中标通知书")),
    ActSpec("contract.sign", _("签署合同"), "contracts.contract", digest=_("合同文本（版本）")),
    ActSpec("land.confirm", _("确认竞得资格"), "bidding.landlisting"),
    ActSpec("land.deal", _("签署成交确认书"), "bidding.landlisting", digest=_("成交确认书")),
    ActSpec("auction.confirm", _("确认竞价结果"), "bidding.auction", digest=_("竞价结果")),
    ActSpec(
        "deposit.refund_account",
        _("确认保证金退还账户"),
        "deposits.deposit",
        digest=_("退还账户信息"),
    ),
    ActSpec(
        "guarantee.issue",
        _("出具电子保函"),
        "deposits.guarantee",
        digest=_("保函文件"),
        certificate_kinds=ISSUER_KINDS,
    ),
    ActSpec(
        "registration.submit",
        _("提交主体注册申请"),
        "accounts.organization",
        digest=_("注册申请材料"),
    ),
    ActSpec("certificate.test", _("测试签名（不产生任何业务效力）"), "signing.certificate"),
)

ACTS: dict[str, ActSpec] = {spec.name: spec for spec in _SPECS}

# The self-test act: a signature over it changes nothing on the platform.
TEST_ACT = "certificate.test"
