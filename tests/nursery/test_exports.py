import csv
import io

import pytest

from nursery.exports import csv_lines, safe_cell


@pytest.mark.parametrize("value", ["=1+1", "+44 7700", "-2", "@cmd", "\t=1", "\r=1", "\n=1"])
def test_a_cell_that_a_spreadsheet_would_run_is_made_text(value):
    assert safe_cell(value) == f"'{value}"


@pytest.mark.parametrize("value, text", [("Grace Okafor", "Grace Okafor"), ("", ""), (" =1", " =1"), (3, "3"),
                                         (None, "")])
def test_other_cells_are_left_as_they_are(value, text):
    assert safe_cell(value) == text


def test_every_line_is_made_safe_cell_by_cell():
    text = "".join(csv_lines(["name", "=x"], [["=HYPERLINK(\"x\")", "Amara", 2, "\r@x"]]))
    assert list(csv.reader(io.StringIO(text))) == [["name", "'=x"], ["'=HYPERLINK(\"x\")", "Amara", "2", "'\r@x"]]
