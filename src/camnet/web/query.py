"""The one query-string parser: the same field limit everywhere, checked before anything
else, so that a request with too many fields is a 400 whoever sends it (it was a 401 for a
valid Bearer token, because the gate gave up on the query before reading the token)."""

from __future__ import annotations

from typing import Final
from urllib.parse import parse_qsl

MAX_QUERY_FIELDS: Final = 1000


class TooManyFields(ValueError):
    """A query of more than ``MAX_QUERY_FIELDS`` fields."""

    def __init__(self) -> None:
        super().__init__(f"more than {MAX_QUERY_FIELDS} query fields")


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs in order, repeats kept; ``TooManyFields`` past the limit."""
    if not query_string:
        return []
    try:
        return parse_qsl(
            query_string.decode("latin-1"),
            keep_blank_values=True,
            max_num_fields=MAX_QUERY_FIELDS,
        )
    except ValueError:
        raise TooManyFields() from None
