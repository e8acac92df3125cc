"""Pages of sealed bidding, opening, evaluation and award. Included at "bidding/" by config/urls.py."""

from __future__ import annotations

from django.urls import path

from bidding import views
from bidding.auction import views as auction_views
from bidding.auction.result_views import result_pdf as auction_result_pdf
from bidding.land import views as land_views

urlpatterns = [
    # Public results; the overseers' board.
    path("", views.index, name="bidding_index"),
    path("mine/", views.my_bids, name="my_bids"),
    path("evaluations/", views.my_evaluations, name="my_evaluations"),
    path("lots/<int:pk>/", views.lot_detail, name="bidding_lot"),
    # The supplier's bid.
    path("lots/<int:pk>/bid/", views.bid_form, name="bid_form"),
    path("lots/<int:pk>/bid/receipt/", views.bid_receipt, name="bid_receipt"),
    path("lots/<int:pk>/bid/receipt.pdf", views.bid_receipt_pdf, name="bid_receipt_pdf"),
    path("lots/<int:pk>/bid/withdraw/", views.bid_withdraw, name="bid_withdraw"),
    path("lots/<int:pk>/bid/decrypt/", views.bid_decrypt, name="bid_decrypt"),
    # The opening and its record.
    path("lots/<int:pk>/opening/", views.opening_page, name="bidding_opening"),
    path("lots/<int:pk>/record/", views.opening_record, name="opening_record"),
    path("lots/<int:pk>/record.pdf", views.opening_record_pdf, name="opening_record_pdf"),
    path("lots/<int:pk>/record/respond/", views.record_respond, name="record_respond"),
    path("record-responses/<int:pk>/answer/", views.record_answer, name="record_answer"),
    # Evaluation.
    path("lots/<int:pk>/evaluation/", views.evaluation_page, name="bidding_evaluation"),
    path("lots/<int:pk>/evaluation/start/", views.evaluation_start, name="evaluation_start"),
    path(
        "lots/<int:pk>/evaluation/bids/<int:bid_pk>/score/",
        views.evaluation_score,
        name="evaluation_score",
    ),
    path(
        "lots/<int:pk>/evaluation/more-time/",
        views.evaluation_more_time,
        name="evaluation_more_time",
    ),
    path("lots/<int:pk>/evaluation/compile/", views.evaluation_compile, name="evaluation_compile"),
    path("lots/<int:pk>/evaluation/confirm/", views.evaluation_confirm, name="evaluation_confirm"),
    # Publicity, award, contract.
    path("lots/<int:pk>/publicity/publish/", views.publicity_publish, name="publicity_publish"),
    path("lots/<int:pk>/publicity/object/", views.publicity_object, name="publicity_object"),
    path("publicity-objections/<int:pk>/reply/", views.publicity_reply, name="publicity_reply"),
    path("lots/<int:pk>/award/", views.award_issue, name="award_issue"),
    path("lots/<int:pk>/award.pdf", views.award_notice_pdf, name="award_notice_pdf"),
    path("lots/<int:pk>/contract/", views.contract_record, name="contract_record"),
    path("lots/<int:pk>/refusal/", views.refusal_record, name="refusal_record"),
    # Live auctions (电子反拍): the rooms, the agent's setup form.
    path("auctions/", auction_views.auction_list, name="auction_list"),
    path("auctions/<int:pk>/", auction_views.auction_room, name="auction_room"),
    path("lots/<int:pk>/auction/new/", auction_views.auction_setup, name="auction_setup"),
    # The live auction's result document (supervisors, staff, the agent, participants; once finished).
    path("auctions/<int:pk>/result.pdf", auction_result_pdf, name="auction_result_pdf"),
    # Land listing (挂牌出让): the listing page, a bidder's answers, the reserve, the agent's setup.
    path("land/", land_views.listing_list, name="land_list"),
    path("land/<int:pk>/", land_views.listing_page, name="land_listing"),
    path("land/<int:pk>/status/", land_views.listing_status, name="land_status"),
    path("land/<int:pk>/respond/", land_views.respond, name="land_respond"),
    path("land/<int:pk>/offer/", land_views.offer, name="land_offer"),
    path("land/<int:pk>/sign/", land_views.sign, name="land_sign"),
    path("land/<int:pk>/refusal/", land_views.refusal, name="land_refusal"),
    path("land/<int:pk>/reserve/", land_views.reserve, name="land_reserve"),
    path(
        "land/<int:pk>/qualification.pdf",
        land_views.qualification_pdf,
        name="land_qualification_pdf",
    ),
    path(
        "land/<int:pk>/confirmation.pdf",
        land_views.confirmation_pdf,
        name="land_confirmation_pdf",
    ),
    path("lots/<int:pk>/land/new/", land_views.setup, name="land_setup"),
]
