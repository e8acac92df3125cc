"""Clock step of the signing app: fetch every trusted CA's CRL again, periodically.

A certificate is refused once its CA's newest CRL passes its nextUpdate (fail closed), so the CRLs
must be fetched well before that: every `SIGNING_CRL_REFRESH_SECONDS`. The step reschedules itself;
`run_clock` schedules its first run (`clock.registry.recurring`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from clock.registry import recurring, step
from clock.services import schedule
from signing import ca_simulator, pki

REFRESH_STEP = "signing.refresh_crls"
FIRST_REFRESH_DELAY = dt.timedelta(minutes=1)


def schedule_next_refresh(after: dt.datetime | None = None) -> None:
    interval = dt.timedelta(seconds=settings.SIGNING_CRL_REFRESH_SECONDS)
    schedule(REFRESH_STEP, "crls", (after or timezone.now()) + interval)


def refresh_all() -> list[pki.CrlRefresh]:
    """The configured CAs' CRLs fetched, and the simulator's roots' CRLs re-issued when near their end."""
    results = pki.refresh_crls()
    ca_simulator.refresh_crls()
    return results


@step(REFRESH_STEP)
def refresh_crls_periodically(object_id: str) -> None:
    refresh_all()
    schedule_next_refresh()


def schedule_first_refresh() -> None:
    # A minute after the clock starts with none pending (`manage.py refresh_crls` fetches at once, for
    # a deployment that cannot wait); a restarting clock finds the pending run and leaves it be.
    schedule(REFRESH_STEP, "crls", timezone.now() + FIRST_REFRESH_DELAY)


recurring(REFRESH_STEP, schedule_first_refresh)
