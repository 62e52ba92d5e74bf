"""Phone numbers of several countries (issue 15 point 4): national numbers are read as the
row's country's, else the tenant's region's."""

from shared.importing import CustomerRow, FieldRules, RawRow, RowError, RowValidator

FRENCH_MOBILE = "06 12 34 56 78"


def validate(values: dict[str, str], region: str = "NO") -> CustomerRow | RowError:
    return RowValidator(FieldRules(), region=region).validate(RawRow(2, values))


class TestRegions:
    def test_a_french_national_number_imports_for_a_customer_in_france(self) -> None:
        row = validate({"external_id": "c1", "country": "fr", "phone": FRENCH_MOBILE})
        assert isinstance(row, CustomerRow), row
        assert row.fields == {"country": "FR", "phone_1": "+33612345678"}

    def test_read_as_norwegian_it_is_refused(self) -> None:
        row = validate({"external_id": "c1", "phone": FRENCH_MOBILE})
        assert isinstance(row, RowError)
        assert "phone_1" in row.reason

    def test_a_french_tenant_reads_its_national_numbers(self) -> None:
        row = validate({"external_id": "c1", "phone": FRENCH_MOBILE}, region="FR")
        assert isinstance(row, CustomerRow), row
        assert row.fields["phone_1"] == "+33612345678"

    def test_international_numbers_stay_whatever_the_region(self) -> None:
        row = validate({"external_id": "c1", "country": "FR", "phone": "+47 22 33 44 55"})
        assert isinstance(row, CustomerRow), row
        assert row.fields["phone_1"] == "+4722334455"

    def test_an_unknown_country_is_refused(self) -> None:
        row = validate({"external_id": "c1", "country": "XX"})
        assert isinstance(row, RowError)
        assert "country" in row.reason
