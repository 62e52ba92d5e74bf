"""Calling rules (rule 33): when a customer may be called, in the customer's own time zone."""
