"""Who may be contacted (rule 34, decision 033): the tenant's blocklist, do-not-call
registers and consent. Pure rules and the SQL that asks them; the API and the worker call."""
