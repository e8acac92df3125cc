"""The draw itself: a documented, deterministic function of (seed, pool, request).

Anyone holding a draw's record can recompute it:

    for each quota i, in the request's order:
        candidates = the quota's eligible expert ids (ascending), minus experts already picked
        for position p = 0 … count + alternates − 1 (while candidates remain):
            digest = HMAC-SHA256(key = seed bytes,
                                 message = f"{request_hash}:{pool_hash}:{i}:{p}" as UTF-8)
            pick   = candidates.pop(int.from_bytes(digest, "big") mod len(candidates))
            role   = "member" for p < count, else "alternate"

The seed is 32 random bytes from `secrets`, fixed (and its SHA-256 shown) before the draw and revealed
after it. A 256-bit number modulo a pool of at most thousands has a bias below 2⁻²⁴⁰: every eligible
expert is equally likely. Hashes are SHA-256 over the canonical JSON used by the audit chain
(`lib.canonical`).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from lib.canonical import canonical_sha256, sha256_hex


@dataclass(frozen=True)
class Pick:
    quota: int
    position: int
    expert_id: int
    role: str


def document_hash(document: Any) -> str:
    return canonical_sha256(document)


def seed_hash(seed_hex: str) -> str:
    return sha256_hex(bytes.fromhex(seed_hex))


def select(seed_hex: str, pool: dict[str, Any], request: dict[str, Any]) -> list[Pick]:
    key = bytes.fromhex(seed_hex)
    request_hash, pool_hash = document_hash(request), document_hash(pool)
    picked: set[int] = set()
    picks: list[Pick] = []
    for index, quota in enumerate(request["quotas"]):
        candidates = sorted(set(pool["quotas"][index]["eligible"]) - picked)
        wanted = quota["count"] + request["alternates"]
        for position in range(min(wanted, len(candidates))):
            message = f"{request_hash}:{pool_hash}:{index}:{position}".encode()
            digest = hmac.new(key, message, hashlib.sha256).digest()
            expert_id = candidates.pop(int.from_bytes(digest, "big") % len(candidates))
            picked.add(expert_id)
            role = "member" if position < quota["count"] else "alternate"
            picks.append(Pick(index, position, expert_id, role))
    return picks
