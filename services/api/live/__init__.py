"""Live: long polls of /next are woken here; server-sent event streams."""
