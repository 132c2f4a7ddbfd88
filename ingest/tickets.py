"""Resolved tickets: the canonical schema and readers for JSONL and CSV exports."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from ingest.errors import InvalidTicket, SkippedRecord
from ingest.pii import mask_personal_data

CANONICAL_FIELDS = (
    "id",
    "title",
    "description",
    "resolution",
    "team",
    "created_at",
    "resolved_at",
    "language",
    "tags",
    "source",
)


# A source is a path segment and the middle of `ticket:<source>:<id>`: no '/', no ':', and
# it starts with a letter or digit (so never '.' or '..'). An id is the last segment: no
# '/', and not '.' or '..' (a client would collapse them); ':' is fine there.
SOURCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def _check_id(value: str) -> str:
    if "/" in value or value in (".", ".."):
        raise ValueError("a ticket id may not contain '/' nor be '.' or '..'")
    return value


TicketSource = Annotated[
    str,
    Field(pattern=SOURCE_PATTERN, description="Letters, digits, '.', '_', '-'; up to 64."),
]
TicketId = Annotated[
    str,
    Field(min_length=1, max_length=200, description="Id in the source ticket tool (no '/')."),
    AfterValidator(_check_id),
]


def source_from_name(name: str) -> str:
    """A valid source from a file name: runs of other characters become '-'."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:64]
    return cleaned or "import"


class ResolvedTicket(BaseModel):
    """One resolved ticket in Stellwerk's canonical shape."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: TicketId
    title: str = Field(min_length=1, max_length=1000)
    description: str = Field(default="", max_length=100_000)
    resolution: str = Field(default="", max_length=100_000)
    team: str | None = Field(default=None, max_length=100)
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    language: str | None = Field(default=None, max_length=10)
    tags: list[str] = Field(default_factory=list)
    source: TicketSource = "import"

    @field_validator("id", "source", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("team", "language", "created_at", "resolved_at", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("tags", mode="before")
    @classmethod
    def _split_tags(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            separator = ";" if ";" in value else ","
            return [tag.strip() for tag in value.split(separator) if tag.strip()]
        return value

    def masked(self) -> ResolvedTicket:
        """The same ticket with e-mail addresses and phone numbers replaced."""
        return self.model_copy(
            update={
                "title": mask_personal_data(self.title),
                "description": mask_personal_data(self.description),
                "resolution": mask_personal_data(self.resolution),
            }
        )


def parse_mapping(spec: str | None) -> dict[str, str]:
    """Parse `title=Short description,team=Assignment group` into canonical -> column."""
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for pair in spec.split(","):
        if not pair.strip():
            continue
        canonical, sep, column = pair.partition("=")
        canonical, column = canonical.strip(), column.strip()
        if not sep or not column:
            raise InvalidTicket(f"Invalid mapping {pair!r}: expected field=column.")
        if canonical not in CANONICAL_FIELDS:
            raise InvalidTicket(
                f"Unknown field {canonical!r} in mapping; known: {', '.join(CANONICAL_FIELDS)}."
            )
        mapping[canonical] = column
    return mapping


def validate_ticket(
    record: Mapping[str, Any], *, where: str, default_source: str
) -> ResolvedTicket:
    data = dict(record)
    if not data.get("source"):
        data["source"] = default_source
    try:
        return ResolvedTicket.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "at": where}
            for err in exc.errors()
        ]
        fields = ", ".join(d["field"] for d in details)
        raise InvalidTicket(f"{where}: invalid ticket ({fields})", details=details) from exc


def _apply_mapping(row: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    record = dict(row)
    for canonical, column in mapping.items():
        if column not in row:
            raise InvalidTicket(f"Column {column!r} (mapped to {canonical}) is not in the file.")
        record[canonical] = row[column]
    return record


def _json_object(line: str, where: str) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidTicket(f"{where}: not valid JSON ({exc.msg})") from exc
    if not isinstance(row, dict):
        raise InvalidTicket(f"{where}: expected a JSON object")
    return row


def json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank line of a JSONL file as an object, with its line number."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, _json_object(line, f"{path.name}:{number}")


def _check_csv_columns(path: Path, columns: list[str] | None, mapping: Mapping[str, str]) -> None:
    """A mapped column missing from a CSV header is a mistake of the run, not of a row."""
    for canonical, column in mapping.items():
        if column not in (columns or []):
            raise InvalidTicket(f"Column {column!r} (mapped to {canonical}) is not in {path.name}.")


def read_tickets(
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    default_source: str | None = None,
    skipped: list[SkippedRecord] | None = None,
) -> Iterator[ResolvedTicket]:
    """Yield validated tickets from a .jsonl or .csv file.

    The first bad record raises, unless `skipped` is given: then each bad record (invalid
    JSON, a missing mapped field, a failed validation) is appended to it and left out.
    Problems of the whole run (file type, a mapped column missing from a CSV header) raise
    either way.
    """
    mapping = mapping or {}
    source = default_source or source_from_name(path.stem)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows: Iterator[tuple[str, str | Mapping[str, Any]]] = _jsonl_lines(path)
    elif suffix == ".csv":
        rows = _csv_rows(path, mapping, check_header=skipped is not None)
    else:
        raise InvalidTicket(f"Unsupported ticket file type {suffix!r}; use .jsonl or .csv.")
    for where, raw in rows:
        try:
            row = _json_object(raw, where) if isinstance(raw, str) else raw
            yield validate_ticket(_apply_mapping(row, mapping), where=where, default_source=source)
        except InvalidTicket as exc:
            if skipped is None:
                raise
            skipped.append(SkippedRecord(where, _reason(exc, where)))


def _reason(exc: InvalidTicket, where: str) -> str:
    """Why a record was skipped, without its position: the fields and what is wrong."""
    if exc.details:
        return (
            "invalid ticket ("
            + "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
            + ")"
        )
    return str(exc).removeprefix(f"{where}: ")


def _jsonl_lines(path: Path) -> Iterator[tuple[str, str | Mapping[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield f"{path.name}:{number}", line


def _csv_rows(
    path: Path, mapping: Mapping[str, str], *, check_header: bool
) -> Iterator[tuple[str, str | Mapping[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if check_header:
            _check_csv_columns(path, list(reader.fieldnames or []), mapping)
        for number, row in enumerate(reader, start=2):
            yield f"{path.name}:{number}", row
