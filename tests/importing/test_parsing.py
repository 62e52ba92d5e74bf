"""Reading CSV and JSON import files into raw rows."""

import pytest

from shared.importing import CsvSource, ImportFileError, ImportFormat, JsonSource, open_source


class TestCsvSource:
    def test_numbers_rows_by_file_line_with_the_header_as_line_1(self) -> None:
        source = CsvSource(b"external_id,first_name\nc1,Ada\n\nc2,Bob\n")
        rows = list(source.rows())
        assert [(r.line, r.values) for r in rows] == [
            (2, {"external_id": "c1", "first_name": "Ada"}),
            (4, {"external_id": "c2", "first_name": "Bob"}),
        ]
        assert source.count() == 2

    def test_a_quoted_field_over_two_lines_starts_its_row_line(self) -> None:
        source = CsvSource(b'external_id,note\nc1,"two\nlines"\nc2,x\n')
        assert [r.line for r in source.rows()] == [2, 4]

    def test_a_row_with_the_wrong_number_of_fields_is_an_error_row(self) -> None:
        source = CsvSource(b"external_id,first_name\nc1,Ada,extra\nc2,Bob\n")
        broken, good = list(source.rows())
        assert broken.line == 2
        assert broken.error == "expected 2 fields as in the header, found 3"
        assert broken.values == {"external_id": "c1"}
        assert good.error is None

    def test_undecodable_bytes_stay_in_their_row(self) -> None:
        source = CsvSource(b"external_id,first_name\nc1,\xff\xfe\nc2,Bob\n")
        rows = list(source.rows())
        assert len(rows) == 2
        assert "\udcff" in rows[0].values["first_name"]

    def test_an_overlong_field_is_an_error_row(self) -> None:
        source = CsvSource(b"external_id,note\nc1," + b"x" * 200_000 + b"\nc2,y\n")
        broken, good = list(source.rows())
        assert broken.error is not None and "unreadable CSV" in broken.error
        assert good.values == {"external_id": "c2", "note": "y"}

    def test_reads_semicolon_separated_files(self) -> None:
        source = CsvSource("external_id;first_name\nc1;Åse\n".encode())
        assert next(source.rows()).values == {"external_id": "c1", "first_name": "Åse"}

    def test_skips_a_byte_order_mark(self) -> None:
        source = CsvSource(b"\xef\xbb\xbfexternal_id,first_name\r\nc1,Ada\r\n")
        assert next(source.rows()).values == {"external_id": "c1", "first_name": "Ada"}

    def test_without_an_external_id_column_the_file_is_refused(self) -> None:
        with pytest.raises(ImportFileError, match="no external_id column"):
            CsvSource(b"id,first_name\n1,Ada\n")

    def test_an_empty_file_is_refused(self) -> None:
        with pytest.raises(ImportFileError, match="empty"):
            CsvSource(b"\n\n")

    def test_a_repeated_column_is_read_once_with_a_warning(self) -> None:
        source = CsvSource(b"external_id,email,email\nc1,a@x.no,b@x.no\n")
        assert next(source.rows()).values == {"external_id": "c1", "email": "a@x.no"}
        assert source.warnings == ["column 'email' appears more than once; the first is used"]

    def test_estimates_rows_from_line_breaks(self) -> None:
        assert CsvSource(b"external_id\nc1\nc2").estimated_rows() == 2


class TestJsonSource:
    def test_reads_a_list_of_objects_numbered_from_1(self) -> None:
        source = JsonSource(b'[{"external_id": "c1"}, {"external_id": "c2"}]')
        assert [(r.line, r.values["external_id"]) for r in source.rows()] == [(1, "c1"), (2, "c2")]

    def test_reads_rows_under_a_rows_key(self) -> None:
        source = JsonSource(b'{"rows": [{"external_id": "c1"}]}')
        assert source.count() == 1

    def test_an_item_that_is_no_object_is_an_error_row(self) -> None:
        rows = list(JsonSource(b'[{"external_id": "c1"}, 7]').rows())
        assert rows[1].error == "the row is not an object"

    @pytest.mark.parametrize(
        "payload",
        [b"[{", b"\xff\xfe\x00", b'{"rows": 3}', b'"text"', b"[" * 100_000],
        ids=["truncated", "not-utf8", "rows-not-a-list", "a-string", "too-deep"],
    )
    def test_malformed_json_is_refused(self, payload: bytes) -> None:
        with pytest.raises(ImportFileError):
            JsonSource(payload)

    def test_rows_without_any_external_id_are_refused(self) -> None:
        with pytest.raises(ImportFileError, match="external_id"):
            JsonSource(b'[{"first_name": "Ada"}]')


class TestOpenSource:
    def test_opens_by_format(self) -> None:
        assert isinstance(open_source(b"external_id\n", ImportFormat.csv), CsvSource)
        assert isinstance(open_source(b"[]", ImportFormat.json), JsonSource)
