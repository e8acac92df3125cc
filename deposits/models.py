"""Deposit custody ledger (issue 4)."""
