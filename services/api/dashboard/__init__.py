"""The supervisors' live dashboard in the browser (docs/decisions/020-supervisor-dashboard.md)."""
