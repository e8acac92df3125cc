"""Pages of sealed bidding, opening, evaluation and award. Included at "bidding/" by config/urls.py."""

from __future__ import annotations

from django.urls import path

from bidding import single_source_views, views
from bidding.auction import views as auction_views
from bidding.auction.result_views import result_pdf as auction_result_pdf
from bidding.land import views as land_views

urlpatterns = [
    # Public results; the overseers' board.
    path("", views.index, name="bidding_index"),
    path("mine/", views.my_bids, name="my_bids"),
    path("evaluations/", views.my_evaluations, name="my_evaluations"),
    path("lots/<id:pk>/", views.lot_detail, name="bidding_lot"),
    path(
        "lots/<id:pk>/single-source/",
        single_source_views.single_source_page,
        name="bidding_single_source",
    ),
    # The supplier's bid.
    path("lots/<id:pk>/bid/", views.bid_form, name="bid_form"),
    path("lots/<id:pk>/bid/receipt/", views.bid_receipt, name="bid_receipt"),
    path("lots/<id:pk>/bid/receipt.pdf", views.bid_receipt_pdf, name="bid_receipt_pdf"),
    path("lots/<id:pk>/bid/withdraw/", views.bid_withdraw, name="bid_withdraw"),
    path("lots/<id:pk>/bid/decrypt/", views.bid_decrypt, name="bid_decrypt"),
    # The opening and its record.
    path("lots/<id:pk>/opening/", views.opening_page, name="bidding_opening"),
    path("lots/<id:pk>/record/", views.opening_record, name="opening_record"),
    path("lots/<id:pk>/record.pdf", views.opening_record_pdf, name="opening_record_pdf"),
    path("lots/<id:pk>/record/respond/", views.record_respond, name="record_respond"),
    path("record-responses/<id:pk>/answer/", views.record_answer, name="record_answer"),
    # Evaluation.
    path("lots/<id:pk>/evaluation/", views.evaluation_page, name="bidding_evaluation"),
    path("lots/<id:pk>/evaluation/start/", views.evaluation_start, name="evaluation_start"),
    path(
        "lots/<id:pk>/evaluation/bids/<id:bid_pk>/score/",
        views.evaluation_score,
        name="evaluation_score",
    ),
    path(
        "lots/<id:pk>/evaluation/more-time/",
        views.evaluation_more_time,
        name="evaluation_more_time",
    ),
    path("lots/<id:pk>/evaluation/compile/", views.evaluation_compile, name="evaluation_compile"),
    path("lots/<id:pk>/evaluation/confirm/", views.evaluation_confirm, name="evaluation_confirm"),
    path(
        "lots/<id:pk>/evaluation/report.pdf",
        views.evaluation_report_pdf,
        name="evaluation_report_pdf",
    ),
    # 竞争性谈判/磋商: rounds, the final-quote call, a supplier's final quote.
    path("lots/<id:pk>/negotiation/round/", views.negotiation_round, name="negotiation_round"),
    path(
        "lots/<id:pk>/negotiation/final-call/",
        views.negotiation_final_call,
        name="negotiation_final_call",
    ),
    path(
        "lots/<id:pk>/negotiation/final-quote/",
        views.negotiation_final_quote,
        name="negotiation_final_quote",
    ),
    # Publicity, award, contract.
    path("lots/<id:pk>/publicity/publish/", views.publicity_publish, name="publicity_publish"),
    path("lots/<id:pk>/publicity/object/", views.publicity_object, name="publicity_object"),
    path("publicity-objections/<id:pk>/reply/", views.publicity_reply, name="publicity_reply"),
    path("lots/<id:pk>/award/", views.award_issue, name="award_issue"),
    path("lots/<id:pk>/award/accept/", views.award_accept, name="award_accept"),
    path("lots/<id:pk>/award.pdf", views.award_notice_pdf, name="award_notice_pdf"),
    path("lots/<id:pk>/contract/", views.contract_record, name="contract_record"),
    path("lots/<id:pk>/refusal/", views.refusal_record, name="refusal_record"),
    # Live auctions (电子反拍): the rooms, the agent's setup form.
    path("auctions/", auction_views.auction_list, name="auction_list"),
    path("auctions/<id:pk>/", auction_views.auction_room, name="auction_room"),
    path("lots/<id:pk>/auction/new/", auction_views.auction_setup, name="auction_setup"),
    # The live auction's result document (supervisors, staff, the agent, participants; once finished).
    path("auctions/<id:pk>/result.pdf", auction_result_pdf, name="auction_result_pdf"),
    # Land listing (挂牌出让): the listing page, a bidder's answers, the reserve, the agent's setup.
    path("land/", land_views.listing_list, name="land_list"),
    path("land/<id:pk>/", land_views.listing_page, name="land_listing"),
    path("land/<id:pk>/status/", land_views.listing_status, name="land_status"),
    path("land/<id:pk>/respond/", land_views.respond, name="land_respond"),
    path("land/<id:pk>/offer/", land_views.offer, name="land_offer"),
    path("land/<id:pk>/sign/", land_views.sign, name="land_sign"),
    path("land/<id:pk>/refusal/", land_views.refusal, name="land_refusal"),
    path("land/<id:pk>/reserve/", land_views.reserve, name="land_reserve"),
    path(
        "land/<id:pk>/qualification.pdf",
        land_views.qualification_pdf,
        name="land_qualification_pdf",
    ),
    path(
        "land/<id:pk>/confirmation.pdf",
        land_views.confirmation_pdf,
        name="land_confirmation_pdf",
    ),
    path("lots/<id:pk>/land/new/", land_views.setup, name="land_setup"),
]
