"""What PostgreSQL can hold: checked where a request's values are read, so that a malformed
request answers 422 and never reaches the database as an error."""

# The largest BIGINT (row ids) and INTEGER (counts such as attempts).
MAX_BIGINT = 2**63 - 1
MAX_INTEGER = 2**31 - 1
# The largest id a client accepts: JSON numbers are read as IEEE doubles by most clients
# (JavaScript among them), exact only up to 2**53 - 1, so a bound of 2**63 - 1 in the schema
# was itself unreadable (it became 9223372036854775808, over the bound). Row ids of one
# database never come near it.
MAX_ID = 2**53 - 1
# Text a column can hold, as the schema says it: no NUL (lone surrogates cannot be told by a
# schema's pattern, and JSON clients do not send them).
NO_NUL_PATTERN = r"^[^\x00]*$"


def storable_text(value: str) -> str:
    """The text unchanged, or ValueError for what a text column refuses (NUL, lone surrogates)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value
