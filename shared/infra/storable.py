"""What PostgreSQL can hold: checked where a request's values are read, so that a malformed
request answers 422 and never reaches the database as an error."""

# The largest BIGINT (row ids) and INTEGER (counts such as attempts).
MAX_BIGINT = 2**63 - 1
MAX_INTEGER = 2**31 - 1


def storable_text(value: str) -> str:
    """The text unchanged, or ValueError for what a text column refuses (NUL, lone surrogates)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value
