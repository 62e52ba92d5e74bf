"""Phone numbers of an import in E.164, without a full parse for the common shapes.

A full parse (shared.customers.phones.normalise_phone) costs tens of microseconds: most of an
import's time at a million rows. Yet for a number that is only digits, in international form
(+4722334455) or national form of a region without a national prefix (22334455 in Norway),
phonenumbers' answer depends only on the country code and the number of digits: the digits
stay as they are and the number is possible or not by its length alone. So the full parse
runs once per (country code, length) and its verdict serves every later number of that
shape. Any other shape (a national prefix to strip, an international dialling prefix, a
number that starts with its own country code, letters, brackets) takes the full parse, so
the result is always exactly normalise_phone's.
"""

import re

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, region_code_for_country_code

from shared.customers.phones import DEFAULT_REGION, InvalidPhone, normalise_phone

_SEPARATORS = str.maketrans("", "", " -")
_INTERNATIONAL = re.compile(r"\+([1-9][0-9]{2,19})\Z")
_NATIONAL = re.compile(r"[0-9]{2,17}\Z")
_MAX_COUNTRY_CODE = 3


def _without_national_prefix(country_code: int) -> bool:
    """Whether phonenumbers strips nothing from national numbers of this country code."""
    region = region_code_for_country_code(country_code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    return metadata is not None and metadata.national_prefix_for_parsing is None


class PhoneNormaliser:
    """normalise_phone with a memory of which number shapes are possible."""

    def __init__(self, region: str = DEFAULT_REGION) -> None:
        self.region = region
        metadata = PhoneMetadata.metadata_for_region(region)
        self._national = metadata is not None and metadata.national_prefix_for_parsing is None
        self._country_code = str(metadata.country_code) if metadata is not None else ""
        idd = metadata.international_prefix if metadata is not None else None
        self._idd = re.compile(idd) if idd else None
        self._simple: dict[int, bool] = {}
        # (country code, national digits) -> possible; None: the shape needs a full parse.
        self._verdicts: dict[tuple[str, int], bool | None] = {}

    def normalise(self, raw: str) -> str:
        """raw in E.164; raises InvalidPhone, exactly as normalise_phone(raw, region) would."""
        digits = raw.translate(_SEPARATORS)
        shape = self._shape(digits)
        if shape is None:
            return normalise_phone(raw, region=self.region)
        country_code, number = shape
        key = (country_code, len(number))
        if key in self._verdicts:
            verdict = self._verdicts[key]
        else:
            verdict = self._learn(key, raw, f"+{country_code}{number}")
        if verdict is None:
            return normalise_phone(raw, region=self.region)
        if not verdict:
            raise InvalidPhone(f"'{raw}' is not a possible phone number")
        return f"+{country_code}{number}"

    def _shape(self, digits: str) -> tuple[str, str] | None:
        """(country code, national digits) of a number whose parse keeps its digits."""
        match = _INTERNATIONAL.match(digits)
        if match is not None:
            full = match.group(1)
            for width in range(1, _MAX_COUNTRY_CODE + 1):
                code = int(full[:width])
                if code in COUNTRY_CODE_TO_REGION_CODE:
                    if not self._is_simple(code):
                        return None
                    return full[:width], full[width:]
            return None
        if (
            self._national
            and _NATIONAL.match(digits)
            and not digits.startswith(self._country_code)
            and not (self._idd is not None and self._idd.match(digits))
        ):
            return self._country_code, digits
        return None

    def _is_simple(self, code: int) -> bool:
        simple = self._simple.get(code)
        if simple is None:
            simple = self._simple[code] = _without_national_prefix(code)
        return simple

    def _learn(self, key: tuple[str, int], raw: str, expected: str) -> bool | None:
        """The full parse's verdict on this shape; None if it did not keep the digits as they
        are (the shape rules that out; should it ever happen, the shape is parsed in full)."""
        try:
            result = normalise_phone(raw, region=self.region)
        except InvalidPhone:
            self._verdicts[key] = False
            return False
        self._verdicts[key] = verdict = True if result == expected else None
        return verdict
