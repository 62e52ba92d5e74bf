"""Two tenants: the caller's (acme) and another (globex) whose ids must answer 404 (rule 1)."""

from tests.api.orgs import acme, globex

__all__ = ["acme", "globex"]
