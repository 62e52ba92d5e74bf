"""The membership aggregate: its record (record.py), the rules that change it (attempts,
outcomes, followups, moves, corrections, anonymise: pure functions), and the store of its
hot statements (store.py). See docs/architecture.md."""
