"""Signals for the apps above accounts (notifications/receivers.py), sent inside the transaction of the
change: a receiver's writes commit or roll back with it."""

from django.dispatch import Signal

# An organization's application was approved or returned. Arguments: application, version_number.
application_decided = Signal()
