"""Evaluation expert pool and draws (issue 5)."""
