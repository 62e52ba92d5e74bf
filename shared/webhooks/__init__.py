"""Signed webhooks (DESIGN rule 37, decision 037): event types, the outbox, signatures, and
which receivers may be called."""
