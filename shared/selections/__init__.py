"""Selections of an assignment's customers and the bulk outcome on them."""
