"""The care pipeline's API (DESIGN 3.7): contacts, requests, managers, delegations, tasks."""
