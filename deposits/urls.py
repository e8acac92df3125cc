"""Pages of deposit custody, under /deposits/ (config/urls.py)."""

from __future__ import annotations

from django.urls import path

from deposits import views

urlpatterns = [
    # Bidders.
    path("", views.my_deposits, name="my_deposits"),
    path("lots/<int:lot_pk>/account/", views.open_account, name="deposit_open_account"),
    path("lots/<int:lot_pk>/guarantee/", views.submit_guarantee, name="deposit_submit_guarantee"),
    # One deposit (its bidder, center staff, supervisors).
    path("<int:pk>/", views.deposit_detail, name="deposit_detail"),
    path("<int:pk>/receipt.pdf", views.deposit_receipt, name="deposit_receipt"),
    path("<int:pk>/refund/", views.deposit_schedule_refund, name="deposit_schedule_refund"),
    path("<int:pk>/forfeit/", views.deposit_forfeit, name="deposit_forfeit"),
    path("refunds/<int:pk>/notice.pdf", views.refund_notice, name="refund_notice"),
    path("refunds/<int:pk>/reschedule/", views.refund_reschedule, name="refund_reschedule"),
    path("guarantees/<int:pk>/file/", views.guarantee_file, name="guarantee_file"),
    path("guarantees/<int:pk>/verify/", views.guarantee_verify, name="guarantee_verify"),
    # Center staff (supervisors read-only).
    path("custody/", views.custody, name="custody"),
    path("custody/batches/", views.refund_batch_create, name="refund_batch_create"),
    path("custody/batches/<int:pk>.csv", views.refund_batch_csv, name="refund_batch_csv"),
    path("custody/fx/", views.fx_rate_set, name="fx_rate_set"),
    path("custody/instruments/", views.instrument_register, name="instrument_register"),
    path(
        "custody/instruments/<int:pk>/dishonour/",
        views.instrument_settle,
        {"action": "dishonour"},
        name="instrument_dishonour",
    ),
    path(
        "custody/instruments/<int:pk>/return/",
        views.instrument_settle,
        {"action": "return"},
        name="instrument_return",
    ),
    path("custody/statements/", views.statement_import, name="statement_import"),
    path("custody/statements/<int:pk>/", views.statement_detail, name="statement_detail"),
    # The simulated bank (demo and development only).
    path("simulator/", views.bank_simulator, name="bank_simulator"),
    path(
        "simulator/notifications/<int:pk>/replay/",
        views.bank_simulator_replay,
        name="bank_simulator_replay",
    ),
    path(
        "simulator/refunds/<int:pk>/confirm/",
        views.bank_simulator_confirm,
        name="bank_simulator_confirm",
    ),
]
