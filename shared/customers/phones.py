"""Phone numbers are stored in E.164 (rule 2), parsed by the phonenumbers library."""

import phonenumbers

DEFAULT_REGION = "NO"


class InvalidPhone(ValueError):
    pass


def normalise_phone(raw: str, *, region: str = DEFAULT_REGION) -> str:
    """'+47 22 33 44 55', '22334455' (region NO) -> '+4722334455'; raises InvalidPhone."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"'{raw}' is not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone(f"'{raw}' is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
