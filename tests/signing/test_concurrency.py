"""Two requests carrying one challenge at the same moment, on PostgreSQL: the challenge row's lock lets
exactly one act through; the other sees it used (SIGNATURE_REPLAYED)."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.actors import Actor
from signing import services
from signing.models import SignedAct
from signing.services import SignatureRefused
from tests.conftest import requires_postgres, run_concurrently
from tests.signing.support import enrol, signed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, requires_postgres]

DIGEST = "ef" * 32


def act_once(user, sig):
    with transaction.atomic():
        result = services.require_signature(
            Actor.for_user(user), "bid.submit", ("trading.lot", 9), digest=DIGEST, signed=sig
        )
        # Hold the lock a moment, as a real act writing its rows would.
        transaction.get_connection().cursor().execute("SELECT pg_sleep(0.2)")
        return result


@pytest.mark.parametrize("attempt", range(3))
def test_one_challenge_used_twice_at_once_gives_one_signed_act(supplier, attempt):
    key = enrol(supplier)
    sig = signed(supplier, key, "bid.submit", "trading.lot", 9, digest=DIGEST)
    results = run_concurrently(act_once, [(supplier, sig), (supplier, sig)])
    passed = [r for r in results if isinstance(r, SignedAct)]
    refused = [r for r in results if isinstance(r, SignatureRefused)]
    assert len(passed) == 1, results
    assert len(refused) == 1 and refused[0].code == "SIGNATURE_REPLAYED", results
    assert SignedAct.objects.count() == 1
