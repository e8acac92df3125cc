"""A published contract in OCDS 1.1.5 (validated against the schema and codelists), the contract.sign
act with real signatures, and the whole tender → award → contract → performance on a travelling clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.actors import Actor
from audit.models import AuditEvent
from bidding import evaluation as ev
from bidding.models import Publicity
from contracts import services
from contracts.models import Contract, PerformanceIssue
from lib.errors import DomainError, NotPermitted
from signing.models import SignedAct
from tests.bidding.test_evaluation import evaluate, opened  # noqa: F401 - the fixture
from tests.contracts.conftest import PRICE, TERMS, pdf, travel
from tests.signing.support import enrol, signed
from tests.trading.test_ocds import assert_valid
from trading import ocds
from trading.models import Announcement

pytestmark = pytest.mark.django_db


def test_a_contract_and_its_implementation_are_valid_ocds(agent, supplier, gp):
    with travel(gp.awarded_at + dt.timedelta(days=1)):
        contract = services.draft_contract(
            Actor.for_user(agent), gp.lot, price=PRICE, terms=TERMS, files=[pdf()]
        )
        services.sign_contract(Actor.for_user(agent), contract, signed=None)
        services.sign_contract(Actor.for_user(supplier), contract, signed=None)
        milestone = services.add_milestone(
            Actor.for_user(agent),
            contract,
            description="全部交付",
            due_on=(gp.awarded_at + dt.timedelta(days=20)).date(),
            amount="500000.00",
        )
        services.add_milestone(
            Actor.for_user(agent),
            contract,
            description="质保期满",
            due_on=(gp.awarded_at + dt.timedelta(days=400)).date(),
            amount="480000.00",
        )
    with travel(gp.awarded_at + dt.timedelta(days=10)):
        services.complete_milestone(Actor.for_user(supplier), milestone)
        services.record_payment(Actor.for_user(agent), milestone)
        services.amend_contract(
            Actor.for_user(agent), contract, reason="追加 1 套", price="1000000.00", supplement=True
        )
        services.sign_contract(Actor.for_user(agent), contract, signed=None)
        services.sign_contract(Actor.for_user(supplier), contract, signed=None)
    with travel(gp.awarded_at + dt.timedelta(days=11)):
        services.terminate_contract(
            Actor.for_user(agent), contract, reason="采购人需求变更，协商解除"
        )
    data = assert_valid(ocds.project_release_package(gp.project))
    contract_releases = [r for r in data["releases"] if "contracts" in r]
    tags = [r["tag"] for r in contract_releases]
    assert tags == [
        ["contract"],
        ["implementation"],
        ["implementation"],
        ["contractAmendment"],
        ["contractTermination"],
    ]
    first = contract_releases[0]["contracts"][0]
    award_release = next(r for r in data["releases"] if "awards" in r)
    assert first["awardID"] == award_release["awards"][0]["id"]
    assert first["value"]["amount"] == 980000 and first["status"] == "active"
    assert first["dateSigned"].endswith("+08:00")
    assert {d["documentType"] for d in first["documents"]} == {"contractNotice", "contractSigned"}
    paid = contract_releases[2]
    implementation = paid["contracts"][0]["implementation"]
    assert [m["status"] for m in implementation["milestones"]] == ["met", "scheduled"]
    assert implementation["transactions"][0]["value"]["amount"] == 500000
    roles = {p["name"]: p["roles"] for p in paid["parties"]}
    assert roles[supplier.organization.name] == ["supplier", "payee"]
    assert "payer" in roles[gp.project.owner.name]
    amended = contract_releases[3]["contracts"][0]
    assert amended["value"]["amount"] == 1000000
    assert amended["amendments"][0]["rationale"] == "追加 1 套"
    assert contract_releases[4]["contracts"][0]["status"] == "terminated"


def test_signatures_are_required_and_must_be_the_signers(
    settings, agent, supplier, other_supplier, gp
):
    settings.SIGNING_PASSWORD_FALLBACK = []
    at = gp.awarded_at + dt.timedelta(days=1)
    with travel(at):
        contract = services.draft_contract(Actor.for_user(agent), gp.lot, price=PRICE, terms=TERMS)
        digest = contract.versions.get().sha256
        with pytest.raises(DomainError) as unsigned:
            services.sign_contract(Actor.for_user(supplier), contract, signed=None)
        assert unsigned.value.code == "SIGNATURE_REQUIRED"
        agent_key = enrol(agent)
        supplier_key = enrol(supplier)
        other_key = enrol(other_supplier)
        # Another supplier's signature: it holds no right to sign this contract.
        with pytest.raises(NotPermitted):
            services.sign_contract(
                Actor.for_user(other_supplier),
                contract,
                signed=signed(
                    other_supplier,
                    other_key,
                    "contract.sign",
                    "contracts.contract",
                    contract.pk,
                    digest,
                ),
            )
        # The agent's challenge presented by the supplier: not its challenge.
        with pytest.raises(DomainError) as stolen:
            services.sign_contract(
                Actor.for_user(supplier),
                contract,
                signed=signed(
                    agent, agent_key, "contract.sign", "contracts.contract", contract.pk, digest
                ),
            )
        assert stolen.value.code == "SIGNATURE_UNKNOWN"
        # A signature over another digest (a version that is not the pending one).
        with pytest.raises(DomainError) as wrong:
            services.sign_contract(
                Actor.for_user(supplier),
                contract,
                signed=signed(
                    supplier,
                    supplier_key,
                    "contract.sign",
                    "contracts.contract",
                    contract.pk,
                    "0" * 64,
                ),
            )
        assert wrong.value.code == "SIGNATURE_MISMATCH"
        for user, key in ((agent, agent_key), (supplier, supplier_key)):
            services.sign_contract(
                Actor.for_user(user),
                contract,
                signed=signed(
                    user, key, "contract.sign", "contracts.contract", contract.pk, digest
                ),
            )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.PUBLISHED
    acts = SignedAct.objects.filter(act="contract.sign", target_id=contract.pk)
    assert acts.count() == 2 and all(digest in a.statement for a in acts)


def test_the_whole_way_from_tender_to_accepted_contract(opened, staff, agent):  # noqa: F811
    """Construction: evaluation, publicity, award notice, contract within 30 days, deposits refunded
    through record_contract, performance, acceptance; a late second milestone is recorded as an issue."""
    lot = opened["lot"]
    winner = opened["bidders"][1]
    evaluate(opened, staff)
    with travel(opened["at"]):
        publicity = ev.publish_candidates(Actor.for_user(agent), lot)
    with travel(publicity.ends_at):
        award = ev.issue_award(Actor.for_user(agent), lot)
    assert award.winner == winner.organization
    price = next(
        c["price"] for c in award.candidates if c["organization"] == winner.organization_id
    )
    awarded_at, due_at = award.award_notice_at, award.contract_due_at
    assert awarded_at is not None and due_at is not None
    with travel(awarded_at + dt.timedelta(days=5)):
        with pytest.raises(DomainError) as mismatch:
            services.draft_contract(Actor.for_user(agent), lot, price="1.00", terms=TERMS)
        assert mismatch.value.code == "CONTRACT_PRICE_MISMATCH"
        contract = services.draft_contract(Actor.for_user(agent), lot, price=price, terms=TERMS)
        home = Client()
        home.force_login(winner)
        assert f"/contracts/{contract.pk}/" in home.get("/api/v1/todo/").content.decode()
    signed_at = awarded_at + dt.timedelta(days=29)
    assert signed_at < due_at
    with travel(signed_at):
        services.sign_contract(Actor.for_user(winner), contract, signed=None)
        services.sign_contract(Actor.for_user(agent), contract, signed=None)
        first = services.add_milestone(
            Actor.for_user(agent),
            contract,
            description="主体结构",
            due_on=signed_at.date(),
            amount="10000000.00",
        )
        second = services.add_milestone(
            Actor.for_user(agent),
            contract,
            description="竣工",
            due_on=signed_at.date() + dt.timedelta(days=90),
            amount="20000000.00",
        )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.SIGNED  # construction: no contract notice
    assert Publicity.objects.get(lot=lot).status == Publicity.Status.CONTRACTED
    # record_contract ran once, by the platform, when the second party signed.
    assert AuditEvent.objects.filter(action="bidding.contract.signed").count() == 1
    with travel(signed_at + dt.timedelta(hours=2)):
        services.complete_milestone(Actor.for_user(winner), first)
    with travel(signed_at + dt.timedelta(days=95)):
        services.record_performance_issue(
            Actor.for_user(agent),
            contract,
            kind=PerformanceIssue.Kind.LATE,
            severity=PerformanceIssue.Severity.MINOR,
            description="竣工逾期 5 日",
            milestone=second,
        )
        services.complete_milestone(Actor.for_user(winner), second)
        services.record_acceptance(
            Actor.for_user(agent),
            contract,
            accepted_on=(signed_at + dt.timedelta(days=95)).date(),
            result="passed",
            remarks="竣工验收合格",
        )
    contract.refresh_from_db()
    second.refresh_from_db()
    assert contract.status == Contract.Status.ACCEPTED and second.late
    assert not Announcement.objects.filter(kind=Announcement.Kind.CONTRACT).exists()
