"""Signals for the apps above audit (notifications/receivers.py), sent inside the transaction of the
change: a receiver's writes commit or roll back with it."""

from django.dispatch import Signal

# An alert was raised for supervisors. Arguments: alert, event (its audit event).
alert_raised = Signal()
