"""Demo: the demo users' mobile numbers, verified, so the demo's notices reach the SMS simulator
(/notifications/simulator/sms/). Set directly, as a staff import would: nobody can type back a code for
a demo user. A number a demo user changed since is left as it is."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.demo import USERS
from accounts.models import User

# 138 0013 8xxx: one number per demo user, in the order of accounts.demo.USERS.
DEMO_PHONES = {username: f"1380013{8001 + i:04d}" for i, (username, *_) in enumerate(USERS)}


def seed(out: Any) -> None:
    now = timezone.now()
    for username, number in DEMO_PHONES.items():
        User.objects.filter(username=username, phone="").update(phone=number)
        User.objects.filter(username=username, phone=number, phone_verified_at=None).update(
            phone_verified_at=now
        )
