"""The signed acts of sealed bidding (issue 17): submitting, modifying and withdrawing a bid, confirming
or objecting to the opening record, signing the evaluation report or dissenting — each goes ahead only
with the actor's signature over exactly this act, object and digest, once; the signature is kept
(SignedAct) and named in the act's audit event. A bid's digest is its commitment (bidding.commitment):
the price is sealed, so the bidder signs a hash of price, nonce and files, which the opening checks."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.actors import Actor
from accounts.models import Organization, Role
from audit.models import AuditEvent
from bidding import commitment, pdf, services
from bidding import evaluation as ev
from bidding.models import Bid, Evaluation, EvaluationMember, Opening, OpeningResponse
from lib.errors import DomainError
from signing.models import SignedAct
from signing.services import SignatureRefused
from tests.bidding.world import CODE, build, travel
from tests.conftest import make_org, make_user
from tests.signing.support import enrol, signed, signed_fields
from trading import services as trading

pytestmark = pytest.mark.django_db

PRICE = "34321000.5"  # read as 34321000.50
CANONICAL = "34321000.50"
NONCE = "5a" * 32
DOCUMENTS = [b"%PDF commercial", b"%PDF technical"]


@pytest.fixture
def signing_on(settings: Any) -> Any:
    """Call after building the world (its acts go unsigned under the development fallback): from
    then on every act needs its signature."""
    settings.CA_SIMULATOR = True

    def on() -> None:
        settings.SIGNING_PASSWORD_FALLBACK = []

    return on


def url(name: str, *args: Any) -> str:
    return reverse(name, args=args)


def uploads() -> list[SimpleUploadedFile]:
    return [
        SimpleUploadedFile(f"标书{i}.pdf", content) for i, content in enumerate(DOCUMENTS, start=1)
    ]


def bid_digest(price: str = CANONICAL, nonce: str = NONCE, files: list[bytes] = DOCUMENTS) -> str:
    return commitment.bid_commitment(price, nonce, [hashlib.sha256(f).hexdigest() for f in files])


def code(exc_info: Any) -> str:
    return str(exc_info.value.code)


def event(action: str, target: Any) -> AuditEvent:
    return AuditEvent.objects.filter(action=action, object_id=str(target.pk)).latest("pk")


def finished(opening: Opening) -> dt.datetime:
    assert opening.finished_at is not None
    return opening.finished_at


def newcomer(world: Any) -> Any:
    """A fourth supplier, registered on the lot in time, with no bid yet."""
    user = make_user("fourth", Role.SUPPLIER, make_org(Organization.Kind.SUPPLIER, "丁建设公司"))
    with travel(world.project.bid_deadline - dt.timedelta(days=20)):
        trading.register(Actor.for_user(user), world.lot)
    world.users["fourth"] = user
    return user


# --- The commitment -------------------------------------------------------------------------------


def test_the_commitment_is_the_documented_text_hashed():
    files = [hashlib.sha256(f).hexdigest() for f in DOCUMENTS]
    text = f"bidhall-bid-v1\n{CANONICAL}\n{NONCE}\n{files[0]}\n{files[1]}"
    assert bid_digest() == hashlib.sha256(text.encode()).hexdigest()
    # No file: the text ends with the nonce's line break.
    assert (
        commitment.bid_commitment(CANONICAL, NONCE, [])
        == hashlib.sha256(f"bidhall-bid-v1\n{CANONICAL}\n{NONCE}\n".encode()).hexdigest()
    )
    with pytest.raises(DomainError) as exc:
        commitment.clean_nonce("5A" * 32)
    assert code(exc) == "BID_NONCE_INVALID"
    assert len(commitment.clean_nonce(None)) == 64


# --- bid.submit, bid.modify ------------------------------------------------------------------------


def test_a_signed_first_bid_binds_the_commitment_that_the_opening_checks(users, signing_on):
    world = build(users, "bidding")
    signing_on()
    fourth = newcomer(world)
    digest = bid_digest()
    with world.at():
        key = enrol(fourth)
        sig = signed(fourth, key, "bid.submit", "trading.lot", world.lot.pk, digest=digest)
        bid = services.submit_bid(
            Actor.for_user(fourth),
            world.lot,
            price=PRICE,
            decryption_code=CODE,
            files=uploads(),
            nonce=NONCE,
            signed=sig,
        )
    assert bid.commitment == digest and bid.commitment_opened is None
    act = SignedAct.objects.get()
    assert bid.signed_act == act
    assert (act.act, act.target_type, act.target_id) == ("bid.submit", "trading.lot", world.lot.pk)
    statement = json.loads(act.statement)
    assert statement["act"] == "bid.submit" and statement["digest"] == digest
    # The statement binds the bidder to a price it does not show.
    assert "34321000" not in act.statement and NONCE not in act.statement
    payload = event("bidding.bid.submitted", bid).payload
    assert payload["signed_act"] == act.pk and payload["commitment"] == digest
    assert payload["statement_sha256"] == act.statement_sha256

    # At the opening the decrypted price, the sealed nonce and the files reproduce the commitment.
    with travel(world.deadline + dt.timedelta(minutes=1)):
        services.open_lot(Actor.system("test"), world.lot)
        services.decrypt_bid(
            Actor.for_user(fourth), Bid.objects.get(pk=bid.pk), decryption_code=CODE
        )
    opened = Bid.objects.get(pk=bid.pk)
    assert opened.commitment_opened is True and str(opened.price) == CANONICAL
    assert event("bidding.bid.decrypted", bid).payload["commitment_opened"] is True


def test_a_commitment_that_does_not_open_is_recorded(users):
    world = build(users, "bidding", files=[SimpleUploadedFile("a.pdf", b"%PDF a")])
    owner = world.bid("owner")
    assert len(owner.commitment) == 64  # unsigned (development fallback): the platform drew a nonce
    Bid.objects.filter(pk=owner.pk).update(commitment="00" * 32)
    with travel(world.deadline + dt.timedelta(minutes=1)):
        services.open_lot(Actor.system("test"), world.lot)
        for role in ("owner", "other"):
            services.decrypt_bid(world.actor(role), world.bid(role), decryption_code=CODE)
    assert world.bid("owner").commitment_opened is False
    assert world.bid("other").commitment_opened is True  # no files: price and nonce only
    assert event("bidding.bid.decrypted", owner).payload["commitment_opened"] is False


def test_unsigned_or_wrongly_signed_bids_are_refused_and_change_nothing(users, signing_on):
    world = build(users, "bidding")
    signing_on()
    fourth = newcomer(world)
    digest = bid_digest()

    def submit(sig: Any, **kwargs: Any) -> Bid:
        return services.submit_bid(
            Actor.for_user(fourth),
            world.lot,
            **{
                "price": PRICE,
                "decryption_code": CODE,
                "files": uploads(),
                "nonce": NONCE,
                **kwargs,
            },
            signed=sig,
        )

    with world.at():
        key = enrol(fourth)
        with pytest.raises(SignatureRefused) as exc:
            submit(None)
        assert code(exc) == "SIGNATURE_REQUIRED"
        cases = [
            # another price, another nonce, other files: another commitment
            ("bid.submit", "trading.lot", world.lot.pk, bid_digest(price="34321000.00")),
            ("bid.submit", "trading.lot", world.lot.pk, bid_digest(nonce="6b" * 32)),
            ("bid.submit", "trading.lot", world.lot.pk, bid_digest(files=DOCUMENTS[:1])),
            ("bid.submit", "trading.lot", world.lot.pk + 1, digest),  # another lot
            ("bid.modify", "bidding.bid", world.bid("owner").pk, digest),  # another act
        ]
        for act, target_type, target_id, other in cases:
            sig = signed(fourth, key, act, target_type, target_id, digest=other)
            with pytest.raises(SignatureRefused) as exc:
                submit(sig)
            assert code(exc) == "SIGNATURE_MISMATCH", (act, target_id)
        # A nonce the client did not choose cannot match what it signed.
        sig = signed(fourth, key, "bid.submit", "trading.lot", world.lot.pk, digest=digest)
        with pytest.raises(SignatureRefused) as exc:
            submit(sig, nonce=None)
        assert code(exc) == "SIGNATURE_MISMATCH"
        assert not Bid.objects.filter(organization=fourth.organization).exists()
        # The refused attempts used nothing up; once used, the signature is spent.
        bid = submit(sig)
        with pytest.raises(SignatureRefused) as exc:
            submit(sig)
        assert code(exc) == "SIGNATURE_REPLAYED"
    bid.refresh_from_db()
    assert bid.version == 1 and SignedAct.objects.count() == 1
    assert not AuditEvent.objects.filter(action="bidding.bid.modified", object_id=str(bid.pk))


def test_replacing_a_standing_bid_is_bid_modify_on_the_bid(users, signing_on):
    world = build(users, "bidding")
    signing_on()
    owner = world.users["owner"]
    standing = world.bid("owner")
    digest = bid_digest()
    with world.at():
        key = enrol(owner)
        # Signed as a first submission on the lot: not what replacing the bid is.
        as_submit = signed(owner, key, "bid.submit", "trading.lot", world.lot.pk, digest=digest)
        with pytest.raises(SignatureRefused) as exc:
            services.submit_bid(
                world.actor("owner"),
                world.lot,
                price=PRICE,
                decryption_code=CODE,
                files=uploads(),
                nonce=NONCE,
                signed=as_submit,
            )
        assert code(exc) == "SIGNATURE_MISMATCH"
        sig = signed(owner, key, "bid.modify", "bidding.bid", standing.pk, digest=digest)
        bid = services.submit_bid(
            world.actor("owner"),
            world.lot,
            price=PRICE,
            decryption_code=CODE,
            files=uploads(),
            nonce=NONCE,
            signed=sig,
        )
    assert bid.pk == standing.pk and bid.version == 2 and bid.commitment == digest
    act = bid.signed_act
    assert act is not None
    assert (act.act, act.target_type, act.target_id) == ("bid.modify", "bidding.bid", bid.pk)
    assert event("bidding.bid.modified", bid).payload["signed_act"] == act.pk


# --- bid.withdraw -----------------------------------------------------------------------------------


def test_a_withdrawal_is_signed_on_the_bid(users, signing_on):
    world = build(users, "bidding")
    signing_on()
    owner = world.users["owner"]
    bid = world.bid("owner")
    with world.at():
        key = enrol(owner)
        with pytest.raises(SignatureRefused) as exc:
            services.withdraw_bid(world.actor("owner"), bid)
        assert code(exc) == "SIGNATURE_REQUIRED"
        other_bid = world.bid("other")
        wrong = signed(owner, key, "bid.withdraw", "bidding.bid", other_bid.pk)
        with pytest.raises(SignatureRefused) as exc:
            services.withdraw_bid(world.actor("owner"), bid, signed=wrong)
        assert code(exc) == "SIGNATURE_MISMATCH"
        assert world.bid("owner").status == Bid.Status.SUBMITTED
        sig = signed(owner, key, "bid.withdraw", "bidding.bid", bid.pk)
        services.withdraw_bid(world.actor("owner"), bid, signed=sig)
        # Submitted again after the withdrawal: a new submission on the lot; the old withdrawal
        # signature cannot withdraw it again.
        digest = bid_digest()
        again = signed(owner, key, "bid.submit", "trading.lot", world.lot.pk, digest=digest)
        services.submit_bid(
            world.actor("owner"),
            world.lot,
            price=PRICE,
            decryption_code=CODE,
            files=uploads(),
            nonce=NONCE,
            signed=again,
        )
        with pytest.raises(SignatureRefused) as exc:
            services.withdraw_bid(world.actor("owner"), bid, signed=sig)
        assert code(exc) == "SIGNATURE_REPLAYED"
    assert world.bid("owner").status == Bid.Status.SUBMITTED
    act = SignedAct.objects.get(act="bid.withdraw")
    assert event("bidding.bid.withdrawn", bid).payload["signed_act"] == act.pk


# --- opening.confirm, opening.object ---------------------------------------------------------------


def test_confirming_or_objecting_to_the_record_is_signed_over_its_hash(users, signing_on):
    world = build(users, "opened")
    signing_on()
    opening = Opening.objects.get(lot=world.lot)
    digest = opening.record_sha256
    owner, other = world.users["owner"], world.users["other"]
    text = "我单位报价读错。\r\n请核对。"
    with world.at():
        owner_key, other_key = enrol(owner), enrol(other)
        with pytest.raises(SignatureRefused) as exc:
            services.respond_to_record(world.actor("owner"), opening, confirmed=True)
        assert code(exc) == "SIGNATURE_REQUIRED"
        for act, target_digest, details in [
            ("opening.confirm", "ab" * 32, None),  # another record
            ("opening.object", digest, {"text": text}),  # objecting is not confirming
        ]:
            sig = signed(
                owner, owner_key, act, "bidding.opening", opening.pk, target_digest, details
            )
            with pytest.raises(SignatureRefused) as exc:
                services.respond_to_record(
                    world.actor("owner"), opening, confirmed=True, signed=sig
                )
            assert code(exc) == "SIGNATURE_MISMATCH"
        sig = signed(owner, owner_key, "opening.confirm", "bidding.opening", opening.pk, digest)
        confirmed = services.respond_to_record(
            world.actor("owner"), opening, confirmed=True, signed=sig
        )
        # Another text than the one signed.
        objecting = signed(
            other,
            other_key,
            "opening.object",
            "bidding.opening",
            opening.pk,
            digest,
            {"text": text},
        )
        with pytest.raises(SignatureRefused) as exc:
            services.respond_to_record(
                world.actor("other"), opening, confirmed=False, objection="别的", signed=objecting
            )
        assert code(exc) == "SIGNATURE_MISMATCH"
        objected = services.respond_to_record(
            world.actor("other"), opening, confirmed=False, objection=text, signed=objecting
        )
        OpeningResponse.objects.filter(pk=objected.pk).delete()
        with pytest.raises(SignatureRefused) as exc:
            services.respond_to_record(
                world.actor("other"), opening, confirmed=False, objection=text, signed=objecting
            )
        assert code(exc) == "SIGNATURE_REPLAYED"
    confirm_act = SignedAct.objects.get(act="opening.confirm")
    object_act = SignedAct.objects.get(act="opening.object")
    assert json.loads(confirm_act.statement)["digest"] == digest
    assert json.loads(object_act.statement)["details"] == {"text": "我单位报价读错。\n请核对。"}
    assert event("bidding.opening.confirmed", confirmed).payload["signed_act"] == confirm_act.pk
    assert (
        AuditEvent.objects.get(action="bidding.opening.objected").payload["signed_act"]
        == object_act.pk
    )


# --- evaluation.sign, evaluation.dissent -----------------------------------------------------------


def test_members_sign_the_report_hash_and_the_pdf_finds_each_signature(users, signing_on):
    world = build(users, "reported")
    signing_on()
    evaluation = Evaluation.objects.get(lot=world.lot)
    digest = evaluation.report_sha256
    first, second = world.members[0], world.members[1]
    dissent = "第二名工期偏长，保留意见。"
    with world.at():
        first_key, second_key = enrol(first), enrol(second)
        with pytest.raises(SignatureRefused) as exc:
            ev.confirm_report(Actor.for_user(first), world.lot)
        assert code(exc) == "SIGNATURE_REQUIRED"
        as_dissent = signed(
            first,
            first_key,
            "evaluation.dissent",
            "bidding.evaluation",
            evaluation.pk,
            digest,
            {"text": dissent},
        )
        with pytest.raises(SignatureRefused) as exc:  # signed a dissent, signing without one
            ev.confirm_report(Actor.for_user(first), world.lot, signed=as_dissent)
        assert code(exc) == "SIGNATURE_MISMATCH"
        other_report = signed(
            first, first_key, "evaluation.sign", "bidding.evaluation", evaluation.pk, "cd" * 32
        )
        with pytest.raises(SignatureRefused) as exc:
            ev.confirm_report(Actor.for_user(first), world.lot, signed=other_report)
        assert code(exc) == "SIGNATURE_MISMATCH"
        assert not EvaluationMember.objects.filter(confirmed_at__isnull=False).exists()
        sig = signed(
            first, first_key, "evaluation.sign", "bidding.evaluation", evaluation.pk, digest
        )
        ev.confirm_report(Actor.for_user(first), world.lot, signed=sig)
        dissenting = signed(
            second,
            second_key,
            "evaluation.dissent",
            "bidding.evaluation",
            evaluation.pk,
            digest,
            {"text": dissent},
        )
        ev.confirm_report(Actor.for_user(second), world.lot, dissent=dissent, signed=dissenting)
        EvaluationMember.objects.filter(expert__user=second).update(confirmed_at=None)
        with pytest.raises(SignatureRefused) as exc:
            ev.confirm_report(Actor.for_user(second), world.lot, dissent=dissent, signed=dissenting)
        assert code(exc) == "SIGNATURE_REPLAYED"
    sign_act = SignedAct.objects.get(act="evaluation.sign")
    dissent_act = SignedAct.objects.get(act="evaluation.dissent")
    assert (sign_act.user, dissent_act.user) == (first, second)
    assert json.loads(dissent_act.statement)["details"] == {"text": dissent}
    assert pdf.report_signatures(evaluation) == {first.pk: sign_act, second.pk: dissent_act}
    events = AuditEvent.objects.filter(action="bidding.evaluation.signed").order_by("pk")
    assert [e.payload["signed_act"] for e in events] == [sign_act.pk, dissent_act.pk]


# --- The API ----------------------------------------------------------------------------------------


def test_the_api_round_trip_of_every_bid_act(users, signing_on):
    world = build(users, "bidding")
    signing_on()
    owner = world.users["owner"]
    client = world.api("owner")
    bid = world.bid("owner")
    digest = bid_digest()
    with world.at():
        key = enrol(owner)
        status = client.get(url("api_bidding_lot", world.lot.pk)).json()
        assert status["bid_signing"] == {
            "act": "bid.modify",
            "target_type": "bidding.bid",
            "target_id": bid.pk,
        }
        body = {"price": PRICE, "decryption_code": CODE, "files": uploads(), "bid_nonce": NONCE}
        refused = client.post(url("api_bid_submit", world.lot.pk), body, format="multipart")
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "SIGNATURE_REQUIRED"
        fields = signed_fields(owner, key, "bid.modify", "bidding.bid", bid.pk, digest=digest)
        body = {**body, "files": uploads(), **fields}
        response = client.post(url("api_bid_submit", world.lot.pk), body, format="multipart")
        assert response.status_code == 201, response.content
        receipt = response.json()
        assert receipt["commitment"] == digest and receipt["signed_act"] is not None
        act = SignedAct.objects.get(pk=receipt["signed_act"])
        assert act.act == "bid.modify"
        again = client.post(
            url("api_bid_submit", world.lot.pk), {**body, "files": uploads()}, format="multipart"
        )
        assert again.json()["error"]["code"] == "SIGNATURE_REPLAYED"

        withdraw = url("api_bid_withdraw", bid.pk)
        assert client.post(withdraw, {}, format="json").json()["error"]["code"] == (
            "SIGNATURE_REQUIRED"
        )
        fields = signed_fields(owner, key, "bid.withdraw", "bidding.bid", bid.pk)
        response = client.post(withdraw, fields, format="json")
        assert response.status_code == 200 and response.json()["status"] == "withdrawn"
        assert client.get(url("api_bidding_lot", world.lot.pk)).json()["bid_signing"] == {
            "act": "bid.submit",
            "target_type": "trading.lot",
            "target_id": world.lot.pk,
        }
        malformed = client.post(
            withdraw, {"signing_challenge": "x", "signature": "!!"}, format="json"
        )
        assert malformed.json()["error"]["code"] == "SIGNATURE_MALFORMED"
    assert SignedAct.objects.filter(act="bid.withdraw").count() == 1


def test_the_api_round_trip_of_the_opening_and_evaluation_acts(users, signing_on):
    world = build(users, "reported")
    signing_on()
    opening = Opening.objects.get(lot=world.lot)
    evaluation = Evaluation.objects.get(lot=world.lot)
    owner, member = world.users["owner"], world.members[0]
    with travel(finished(opening) + dt.timedelta(minutes=1)):
        key = enrol(owner)
        record = world.api("anonymous").get(url("api_opening_record", world.lot.pk)).json()
        assert record["id"] == opening.pk and record["record_sha256"] == opening.record_sha256
        text = "异议：第三名的递交时间有误"
        fields = signed_fields(
            owner,
            key,
            "opening.object",
            "bidding.opening",
            record["id"],
            record["record_sha256"],
            {"text": text},
        )
        response = world.api("owner").post(
            url("api_opening_responses", world.lot.pk),
            {"confirmed": False, "objection": text, **fields},
            format="json",
        )
        assert response.status_code == 201, response.content
    assert SignedAct.objects.filter(act="opening.object", user=owner).count() == 1
    with world.at():
        key = enrol(member)
        detail = world.api("member").get(url("api_evaluation", world.lot.pk)).json()
        assert detail["id"] == evaluation.pk
        digest = detail["report"]["report_sha256"]
        fields = signed_fields(
            member, key, "evaluation.sign", "bidding.evaluation", detail["id"], digest
        )
        response = world.api("member").post(
            url("api_evaluation_confirm", world.lot.pk), {"dissent": "", **fields}, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["signed"] is True
    assert SignedAct.objects.get(act="evaluation.sign").user == member


# --- The pages ---------------------------------------------------------------------------------------


def test_the_pages_carry_what_the_browser_signs_and_accept_the_signature(users, signing_on):
    world = build(users, "bidding")
    signing_on()
    owner = world.users["owner"]
    bid = world.bid("owner")
    client = world.client("owner")
    with world.at():
        key = enrol(owner)
        page = client.get(url("bid_form", world.lot.pk)).content.decode()
        assert 'data-sign-act="bid.modify"' in page and f'data-sign-target-id="{bid.pk}"' in page
        assert 'data-sign-commitment="price"' in page and 'data-sign-files="files"' in page
        assert "data-sign-optional" not in page  # no fallback: the browser must sign
        assert "js/signing.js" in page and 'data-testid="bid-commitment"' in page
        form = {"price": PRICE, "decryption_code": CODE, "decryption_code_again": CODE}
        refused = client.post(url("bid_form", world.lot.pk), {**form, "bid_nonce": NONCE})
        assert refused.status_code == 400 and "SIGNATURE_REQUIRED" in refused.content.decode()
        assert "34321000" not in refused.content.decode()
        # No file uploaded: the commitment covers price and nonce.
        digest = bid_digest(files=[])
        fields = signed_fields(owner, key, "bid.modify", "bidding.bid", bid.pk, digest=digest)
        done = client.post(url("bid_form", world.lot.pk), {**form, "bid_nonce": NONCE, **fields})
        assert done.status_code == 302, done.content.decode()
        signed_act = world.bid("owner").signed_act
        assert signed_act is not None and signed_act.act == "bid.modify"

        lot_page = client.get(url("bidding_lot", world.lot.pk)).content.decode()
        assert 'data-sign-act="bid.withdraw"' in lot_page and "js/signing.js" in lot_page
        fields = signed_fields(owner, key, "bid.withdraw", "bidding.bid", bid.pk)
        done = client.post(url("bid_withdraw", world.lot.pk), fields)
        assert done.status_code == 302
        assert world.bid("owner").status == Bid.Status.WITHDRAWN
        page = client.get(url("bid_form", world.lot.pk)).content.decode()
        assert 'data-sign-act="bid.submit"' in page
        assert f'data-sign-target-id="{world.lot.pk}"' in page


def test_the_record_and_evaluation_pages_sign_their_hashes(users, signing_on):
    world = build(users, "reported")
    signing_on()
    opening = Opening.objects.get(lot=world.lot)
    evaluation = Evaluation.objects.get(lot=world.lot)
    owner, member = world.users["owner"], world.members[0]
    with travel(finished(opening) + dt.timedelta(minutes=1)):
        key = enrol(owner)
        client = world.client("owner")
        page = client.get(url("opening_record", world.lot.pk)).content.decode()
        assert (
            'data-sign-act="opening.confirm"' in page and 'data-sign-act="opening.object"' in page
        )
        assert f'data-sign-digest="{opening.record_sha256}"' in page
        assert 'data-sign-detail-text="objection"' in page
        fields = signed_fields(
            owner, key, "opening.confirm", "bidding.opening", opening.pk, opening.record_sha256
        )
        done = client.post(url("record_respond", world.lot.pk), {"answer": "confirm", **fields})
        assert done.status_code == 302
    assert OpeningResponse.objects.get(organization=owner.organization).confirmed
    with world.at():
        key = enrol(member)
        client = world.client("member")
        page = client.get(url("bidding_evaluation", world.lot.pk)).content.decode()
        assert (
            'data-sign-act="evaluation.sign"' in page
            and 'data-sign-act="evaluation.dissent"' in page
        )
        assert f'data-sign-digest="{evaluation.report_sha256}"' in page
        dissent = "保留意见\r\n理由如下"
        fields = signed_fields(
            member,
            key,
            "evaluation.dissent",
            "bidding.evaluation",
            evaluation.pk,
            evaluation.report_sha256,
            {"text": dissent},
        )
        done = client.post(url("evaluation_confirm", world.lot.pk), {"dissent": dissent, **fields})
        assert done.status_code == 302, done.content.decode()
    seat = EvaluationMember.objects.get(evaluation=evaluation, expert__user=member)
    assert seat.dissent == "保留意见\r\n理由如下" or seat.dissent == "保留意见\n理由如下"
    assert pdf.report_signatures(evaluation)[member.pk].act == "evaluation.dissent"
