"""The deposits API, included at /api/v1/deposits/ (see config/urls.py)."""

from __future__ import annotations

from django.urls import path

from deposits import api

urlpatterns = [
    # The custody bank: signed messages, no session (the paths are agreed with the bank as written).
    path("bank/notifications", api.bank_notification, name="api_deposit_bank_notification"),
    path(
        "bank/refund-confirmations",
        api.bank_refund_confirmation,
        name="api_deposit_bank_refund_confirmation",
    ),
    # Bidders.
    path("lots/<id:lot_id>/sub-account/", api.sub_account, name="api_deposit_sub_account"),
    path("lots/<id:lot_id>/guarantees/", api.lot_guarantees, name="api_deposit_lot_guarantees"),
    path(
        "lots/<id:lot_id>/electronic-guarantees/",
        api.lot_electronic_guarantees,
        name="api_deposit_lot_electronic_guarantees",
    ),
    path(
        "lots/<id:lot_id>/guarantee-simulator/",
        api.lot_guarantee_simulator,
        name="api_deposit_lot_guarantee_simulator",
    ),
    path("mine/", api.mine, name="api_deposits_mine"),
    # Center staff; supervisors read.
    path("custody/", api.custody, name="api_deposit_custody"),
    path("notifications/", api.notifications, name="api_deposit_notifications"),
    path("deposits/", api.deposits, name="api_deposits"),
    path("deposits/<id:pk>/forfeit/", api.forfeit, name="api_deposit_forfeit"),
    path("deposits/<id:pk>/refund/", api.refund_deposit, name="api_deposit_refund"),
    path(
        "deposits/<id:pk>/refund-account/",
        api.refund_account,
        name="api_deposit_refund_account",
    ),
    path("refunds/", api.refunds, name="api_deposit_refunds"),
    path(
        "refunds/<id:pk>/reschedule/",
        api.reschedule_refund,
        name="api_deposit_refund_reschedule",
    ),
    path("refunds/batches/", api.refund_batches, name="api_deposit_refund_batches"),
    path(
        "refunds/batches/<id:pk>/csv",
        api.refund_batch_csv,
        name="api_deposit_refund_batch_csv",
    ),
    path("guarantees/", api.guarantees, name="api_deposit_guarantees"),
    path(
        "guarantees/<id:pk>/verify/",
        api.verify_guarantee,
        name="api_deposit_guarantee_verify",
    ),
    path("instruments/", api.instruments, name="api_deposit_instruments"),
    path(
        "instruments/<id:pk>/dishonour/",
        api.dishonour_instrument,
        name="api_deposit_instrument_dishonour",
    ),
    path(
        "instruments/<id:pk>/return/",
        api.return_instrument,
        name="api_deposit_instrument_return",
    ),
    path("fx-rates/", api.fx_rates, name="api_deposit_fx_rates"),
]
