"""Reading a roll exported from a nursery management system: pure parsing, no database.

One row per child–guardian pair, a header row, UTF-8 with or without a byte-order mark. Each row either
becomes a ``Row`` or a ``RowError`` naming its line and the reason, so a preview can show both.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

COLUMNS = (
    "room", "child_first_name", "child_last_name", "date_of_birth", "joined_on", "guardian_name",
    "guardian_email", "relationship", "parental_responsibility",
)
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Row:
    line: int
    room: str
    first_name: str
    last_name: str
    date_of_birth: date
    joined_on: date
    guardian_name: str
    guardian_email: str
    relationship: str
    parental_responsibility: bool

    @property
    def child_key(self) -> tuple[str, str, date]:
        return (self.first_name.lower(), self.last_name.lower(), self.date_of_birth)


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class RollFileError(Exception):
    """The file as a whole cannot be read (not UTF-8, no header, wrong columns)."""


def parse_date(value: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"“{value}” is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def _text(value) -> str:
    return " ".join((value or "").split())


def _row(line: int, raw: dict) -> Row:
    values = {name: _text(raw.get(name)) for name in COLUMNS}
    missing = [name for name in COLUMNS if name != "room" and not values[name]]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    born, joined = parse_date(values["date_of_birth"]), parse_date(values["joined_on"])
    if joined < born:
        raise ValueError("joined_on is before date_of_birth")
    email = values["guardian_email"].lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValueError(f"“{email}” is not an email address") from exc
    responsibility = values["parental_responsibility"].lower()
    if responsibility not in YES | NO:
        raise ValueError("parental_responsibility must be yes or no")
    return Row(
        line=line, room=values["room"][:100], first_name=values["child_first_name"][:100],
        last_name=values["child_last_name"][:100], date_of_birth=born, joined_on=joined,
        guardian_name=values["guardian_name"][:300], guardian_email=email, relationship=values["relationship"][:50],
        parental_responsibility=responsibility in YES,
    )


def parse(content: bytes | str) -> tuple[list[Row], list[RowError]]:
    """Every data row of the file, read or refused; line numbers count the header as line 1."""
    if isinstance(content, bytes):
        if len(content) > MAX_BYTES:
            raise RollFileError("The file is larger than 5 MB.")
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RollFileError("The file is not UTF-8 text: save it as “CSV UTF-8” and try again.") from exc
    content = content.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(content, newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise RollFileError(f"The header row lacks: {', '.join(missing)}. Expected: {','.join(COLUMNS)}")
    reader.fieldnames = header
    rows, errors = [], []
    for raw in reader:
        line = reader.line_num
        if not any(_text(v) for v in raw.values() if isinstance(v, str)):
            continue
        try:
            rows.append(_row(line, raw))
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
    return rows, errors
