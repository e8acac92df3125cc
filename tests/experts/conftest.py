"""Fixtures of the expert tests: `world` (a pool, a tender with bidders, a committed draw) and `now`
(the clock stopped after the commitment, before the evaluation). See tests/experts/world.py."""

from tests.experts.world import now, world  # noqa: F401 — fixtures
