"""Customers: phone numbers and search keys."""
