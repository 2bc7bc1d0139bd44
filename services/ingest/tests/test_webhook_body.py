"""The webhook body is read exactly as the standard library reads it, only faster."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.webhooks.receive import loads

from .ingest_builders import example, example_names

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=30,
)


def typed(value: Any) -> Any:
    """The value with every number's type kept, so that 1 and 1.0 are not equal."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, repr(value))


def read_alike(body: bytes) -> None:
    try:
        expected = typed(json.loads(body))
    except (ValueError, RecursionError) as refused:
        with pytest.raises(type(refused)):
            loads(body)
        return
    assert typed(loads(body)) == expected


@settings(max_examples=300, deadline=None)
@given(document=json_values, compact=st.booleans(), ascii_only=st.booleans())
def test_any_json_document_reads_as_the_standard_library_reads_it(
    document: Any, compact: bool, ascii_only: bool
) -> None:
    separators = (",", ":") if compact else (", ", ": ")
    read_alike(json.dumps(document, separators=separators, ensure_ascii=ascii_only).encode())


@pytest.mark.parametrize("name", example_names())
def test_every_example_reads_as_the_standard_library_reads_it(name: str) -> None:
    read_alike(example(name)[0])


@pytest.mark.parametrize(
    "body",
    [
        b"18446744073709551616",  # past 64 bits: orjson would read a float
        b"[-9223372036854775809, 1e400, -1e400, 1.7976931348623157e309]",
        b'{"n": NaN, "i": Infinity}',
        b'"\\ud800 a lone surrogate"',
        b'\xef\xbb\xbf{"with": "a BOM"}',
        json.dumps({"object": "whatsapp_business_account"}).encode("utf-16"),
        b"[" * 990 + b"]" * 990,  # nested deeper than the standard library goes
        b"[" * 2000 + b"]" * 2000,
        b"{not json",
        b"\xff\xfe garbage",
        b"",
        b'{"a": 1, "a": 2}',
    ],
    ids=lambda body: body[:24].decode("latin-1"),
)
def test_the_edges_where_orjson_differs_read_as_the_standard_library_reads_them(
    body: bytes,
) -> None:
    read_alike(body)
