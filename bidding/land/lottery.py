"""The maximum-price lottery (摇号): a documented, deterministic function of (seed, candidates), with the
commit–reveal of the expert draws (`experts.draw`).

    candidates      = the accepting bidders' organization ids, ascending
    candidates_hash = SHA-256 of the canonical JSON {"listing": <id>, "candidates": [...]}
    digest          = HMAC-SHA256(key = seed bytes, message = f"{candidates_hash}:winner" as UTF-8)
    winner          = candidates[int.from_bytes(digest, "big") mod len(candidates)]

The 32-byte seed comes from `secrets` when the lottery window opens; only its SHA-256 is published then
(audit event and the room). After the window the seed is revealed, so anyone can recompute the winner
and check that the seed matches the hash committed before anyone accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from experts.draw import document_hash, seed_hash


def new_seed() -> tuple[str, str]:
    """(seed hex, its SHA-256): the hash is published at once, the seed after the window."""
    seed = secrets.token_hex(32)
    return seed, seed_hash(seed)


def draw(seed_hex: str, listing_id: int, candidates: list[int]) -> dict[str, Any]:
    ordered = sorted(candidates)
    candidates_hash = document_hash({"listing": listing_id, "candidates": ordered})
    digest = hmac.new(
        bytes.fromhex(seed_hex), f"{candidates_hash}:winner".encode(), hashlib.sha256
    ).digest()
    winner = ordered[int.from_bytes(digest, "big") % len(ordered)]
    return {
        "seed": seed_hex,
        "seed_hash": seed_hash(seed_hex),
        "candidates": ordered,
        "candidates_hash": candidates_hash,
        "winner": winner,
    }


def verify(record: dict[str, Any], listing_id: int) -> list[str]:
    """Problems with a lottery record (empty when it recomputes exactly)."""
    problems = []
    if seed_hash(record["seed"]) != record["seed_hash"]:
        problems.append("the revealed seed does not match the hash committed before the lottery")
    again = draw(record["seed"], listing_id, record["candidates"])
    if again["candidates_hash"] != record["candidates_hash"]:
        problems.append("the candidate list does not match its hash")
    if again["winner"] != record["winner"]:
        problems.append(f"the draw gives {again['winner']}, the record says {record['winner']}")
    return problems
