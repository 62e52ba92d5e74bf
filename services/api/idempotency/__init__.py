"""Idempotent writes: a POST sent again with the same Idempotency-Key gets the first answer
(decision 025)."""
