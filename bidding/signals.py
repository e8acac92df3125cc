"""What bidding tells the apps above it.

- `award_withdrawn` is sent inside the transaction that takes an award away from its winner — the
  winner refused to sign (`evaluation.record_refusal`, 条例 Art.74) or the regulator declared the award
  void (`evaluation.annul_award`) — with `actor`, `lot`, `organization` (the struck winner's id) and
  `reason`. contracts voids the draft contract it may have made with that winner
  (`contracts.services.void_drafts`), so the next winner's can be drafted.
"""

from __future__ import annotations

from django.dispatch import Signal

award_withdrawn = Signal()
