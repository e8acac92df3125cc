"""Pages of deposit custody, under /deposits/ (config/urls.py)."""

from __future__ import annotations

from django.urls import path

from deposits import views

urlpatterns = [
    # Bidders.
    path("", views.my_deposits, name="my_deposits"),
    path("lots/<id:lot_pk>/account/", views.open_account, name="deposit_open_account"),
    path("lots/<id:lot_pk>/guarantee/", views.submit_guarantee, name="deposit_submit_guarantee"),
    path(
        "lots/<id:lot_pk>/electronic-guarantee/",
        views.submit_electronic_guarantee,
        name="deposit_submit_electronic_guarantee",
    ),
    # The simulated guarantee issuer (demo and development only).
    path(
        "lots/<id:lot_pk>/guarantee-simulator/",
        views.guarantee_simulator_issue,
        name="deposit_guarantee_simulator",
    ),
    # One deposit (its bidder, center staff, supervisors).
    path("<id:pk>/", views.deposit_detail, name="deposit_detail"),
    path("<id:pk>/receipt.pdf", views.deposit_receipt, name="deposit_receipt"),
    path("<id:pk>/refund/", views.deposit_schedule_refund, name="deposit_schedule_refund"),
    path(
        "<id:pk>/refund-account/",
        views.confirm_refund_account,
        name="deposit_confirm_refund_account",
    ),
    path("<id:pk>/forfeit/", views.deposit_forfeit, name="deposit_forfeit"),
    path("refunds/<id:pk>/notice.pdf", views.refund_notice, name="refund_notice"),
    path("refunds/<id:pk>/reschedule/", views.refund_reschedule, name="refund_reschedule"),
    path("guarantees/<id:pk>/file/", views.guarantee_file, name="guarantee_file"),
    path("guarantees/<id:pk>/verify/", views.guarantee_verify, name="guarantee_verify"),
    # Center staff (supervisors read-only).
    path("custody/", views.custody, name="custody"),
    path("custody/batches/", views.refund_batch_create, name="refund_batch_create"),
    path("custody/batches/<id:pk>.csv", views.refund_batch_csv, name="refund_batch_csv"),
    path("custody/fx/", views.fx_rate_set, name="fx_rate_set"),
    path("custody/instruments/", views.instrument_register, name="instrument_register"),
    path(
        "custody/instruments/<id:pk>/dishonour/",
        views.instrument_settle,
        {"action": "dishonour"},
        name="instrument_dishonour",
    ),
    path(
        "custody/instruments/<id:pk>/return/",
        views.instrument_settle,
        {"action": "return"},
        name="instrument_return",
    ),
    path("custody/statements/", views.statement_import, name="statement_import"),
    path("custody/statements/<id:pk>/", views.statement_detail, name="statement_detail"),
    # The simulated bank (demo and development only).
    path("simulator/", views.bank_simulator, name="bank_simulator"),
    path(
        "simulator/notifications/<id:pk>/replay/",
        views.bank_simulator_replay,
        name="bank_simulator_replay",
    ),
    path(
        "simulator/refunds/<id:pk>/confirm/",
        views.bank_simulator_confirm,
        name="bank_simulator_confirm",
    ),
]
