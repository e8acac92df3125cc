"""Sealed bids, opening, evaluation and award (issue 6)."""
