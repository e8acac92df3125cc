"""The bidding API, included at /api/v1/bidding/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from bidding import api, single_source_api
from bidding.auction import api as auction_api
from bidding.land import api as land_api

urlpatterns = [
    path("lots/<id:pk>/", api.lot_status, name="api_bidding_lot"),
    path(
        "lots/<id:pk>/single-source/",
        single_source_api.single_source_lot,
        name="api_single_source",
    ),
    # Bids.
    path("lots/<id:pk>/bids/", api.submit_bid, name="api_bid_submit"),
    path("bids/mine/", api.my_bids, name="api_my_bids"),
    path("bids/<id:pk>/", api.bid_detail, name="api_bid"),
    path("bids/<id:pk>/receipt/", api.bid_receipt, name="api_bid_receipt"),
    path("bids/<id:pk>/withdraw/", api.withdraw_bid, name="api_bid_withdraw"),
    path("bids/<id:pk>/decrypt/", api.decrypt_bid, name="api_bid_decrypt"),
    # The opening record.
    path("lots/<id:pk>/opening/record/", api.opening_record, name="api_opening_record"),
    path("lots/<id:pk>/opening/responses/", api.opening_responses, name="api_opening_responses"),
    path(
        "opening-responses/<id:pk>/answer/",
        api.answer_record_objection,
        name="api_opening_answer",
    ),
    # Evaluation.
    path("evaluations/mine/", api.my_evaluations, name="api_my_evaluations"),
    path("lots/<id:pk>/evaluation/", api.evaluation_detail, name="api_evaluation"),
    path("lots/<id:pk>/evaluation/start/", api.start_evaluation, name="api_evaluation_start"),
    path("lots/<id:pk>/evaluation/bids/", api.evaluation_bids, name="api_evaluation_bids"),
    path("lots/<id:pk>/evaluation/scores/", api.evaluation_scores, name="api_evaluation_scores"),
    path(
        "lots/<id:pk>/evaluation/more-time/",
        api.evaluation_more_time,
        name="api_evaluation_more_time",
    ),
    path("lots/<id:pk>/evaluation/compile/", api.compile_report, name="api_evaluation_compile"),
    path("lots/<id:pk>/evaluation/confirm/", api.confirm_report, name="api_evaluation_confirm"),
    # 竞争性谈判/磋商: rounds, the final-quote call, final quotes.
    path("lots/<id:pk>/negotiation/", api.negotiation_detail, name="api_negotiation"),
    path("lots/<id:pk>/negotiation/rounds/", api.negotiation_rounds, name="api_negotiation_rounds"),
    path(
        "lots/<id:pk>/negotiation/final-call/",
        api.negotiation_final_call,
        name="api_negotiation_final_call",
    ),
    path(
        "lots/<id:pk>/negotiation/final-quote/",
        api.negotiation_final_quote,
        name="api_negotiation_final_quote",
    ),
    # Publicity, award, contract.
    path("lots/<id:pk>/publicity/", api.publicity, name="api_publicity"),
    path(
        "lots/<id:pk>/publicity/objections/",
        api.publicity_objections,
        name="api_publicity_objections",
    ),
    path(
        "publicity-objections/<id:pk>/reply/",
        api.reply_publicity_objection,
        name="api_publicity_reply",
    ),
    path("lots/<id:pk>/award/", api.award, name="api_award"),
    path("lots/<id:pk>/award/accept/", api.accept_award, name="api_award_accept"),
    path("lots/<id:pk>/contract/", api.record_contract, name="api_contract"),
    path("lots/<id:pk>/refusal/", api.record_refusal, name="api_refusal"),
    # Live auctions (电子反拍): set up, watch, bid, timeline, publish the result.
    path("lots/<id:pk>/auction/", auction_api.lot_auction, name="api_lot_auction"),
    path("auctions/<id:pk>/", auction_api.auction_state, name="api_auction"),
    path("auctions/<id:pk>/bids/", auction_api.place_bid, name="api_auction_bid"),
    path("auctions/<id:pk>/timeline/", auction_api.timeline, name="api_auction_timeline"),
    path(
        "auctions/<id:pk>/publish-result/",
        auction_api.publish_result,
        name="api_auction_publish_result",
    ),
    # Land listings (挂牌出让): put a parcel up, the reserve, answers, offers, signing, the lottery.
    path("lots/<id:pk>/land-listing/", land_api.lot_listing, name="api_lot_land_listing"),
    path("land-listings/", land_api.listings, name="api_land_listings"),
    path("land-listings/<id:pk>/", land_api.listing_detail, name="api_land_listing"),
    path("land-listings/<id:pk>/reserve/", land_api.reserve, name="api_land_reserve"),
    path("land-listings/<id:pk>/responses/", land_api.respond, name="api_land_respond"),
    path("land-listings/<id:pk>/offers/", land_api.offer, name="api_land_offer"),
    path("land-listings/<id:pk>/sign/", land_api.sign, name="api_land_sign"),
    path("land-listings/<id:pk>/refusal/", land_api.refusal, name="api_land_refusal"),
    path("land-listings/<id:pk>/lottery/", land_api.lottery_record, name="api_land_lottery"),
]
