"""Relay global object identification: the `Node` interface and its global ids.

Every entity keeps `id`: it is the federation key, and clients already store it. The Relay global
id is a field of its own, `nodeId` (as PostGraphile names it), so the two never compete. A global
id is Strawberry's `GlobalID` encoding, base64 of `Type:rest`, which standard tooling decodes.
`rest` is the object's `id`, except for File and Instance, which are read at a version: their
`rest` is `id@version` (the ref as it was given), so refetching a node gives the object at the
version it was read at. Entity ids (UUIDs, integers) hold no `@`: the first `@` splits `rest`.

Label, File and Instance are shaped in SQL, so their `nodeId` is computed by PostgreSQL
(`sql_global_id`), to the byte what `global_id` computes in Python.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from typing import Any, Protocol, cast

import strawberry
from sqlalchemy import ColumnElement, Text, func, literal
from sqlalchemy import cast as sql_cast
from strawberry.relay import GlobalID

from trainingdb.versioning.errors import InvalidInputError

from .json_text import Json, concat, text_literal

# Types whose `rest` names the version the object was read at (its `version` field).
VERSIONED = frozenset({"File", "Instance"})
UUID_KEYED = frozenset({"Label", "Commit", *VERSIONED})
# Integer ids: at most 18 digits, so every well-formed id fits PostgreSQL's bigint.
INT_KEYED = frozenset({"Dataset", "Branch", "Tag", "BatchJob"})
_INT = re.compile(r"[0-9]{1,18}")
SHOWN = 100  # characters of a malformed id repeated in its error


def global_id(type_name: str, id: object, version: str | None = None) -> str:
    """The global id of object `id` of `type_name` (read at `version`, for File and Instance)."""
    rest = str(id) if version is None else f"{id}@{version}"
    return str(GlobalID(type_name, rest))


def sql_global_id(type_name: str, entity_id: ColumnElement[Any], version: str | None) -> Json:
    """The global id of the entity in column `entity_id` (read at `version`) as JSON text,
    computed by PostgreSQL."""
    rest: Json = sql_cast(entity_id, Text)
    if version is not None:
        rest = concat(rest, text_literal(f"@{version}"))
    raw = func.convert_to(concat(text_literal(f"{type_name}:"), rest), literal("UTF8"))
    # PostgreSQL's base64 breaks lines every 76 characters; Python's (and Relay's) does not.
    encoded = func.translate(func.encode(raw, literal("base64")), literal("\n"), literal(""))
    # The base64 alphabet needs no JSON escaping.
    return concat(text_literal('"'), encoded, text_literal('"'))


def representation(value: str, at: str) -> dict[str, str]:
    """The federation-style representation (`__typename`, `id`, `version`?) that global id
    `value` names; BAD_USER_INPUT naming argument `at` if it is not one this API gives out."""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    type_name, _, rest = text.partition(":")
    key, _, version = rest.partition("@") if type_name in VERSIONED else (rest, "", "")
    if type_name in INT_KEYED:
        well_formed = _INT.fullmatch(key) is not None
    elif type_name in UUID_KEYED:
        well_formed = _is_uuid(key) and (bool(version) or type_name not in VERSIONED)
    else:
        well_formed = False
    if not well_formed:
        shown = value if len(value) <= SHOWN else f"{value[:SHOWN]}..."
        raise InvalidInputError(f"{at}: {shown!r} is not a node id (a `nodeId` value)")
    found = {"__typename": type_name, "id": key}
    return found if type_name not in VERSIONED else {**found, "version": version}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class _Identified(Protocol):
    id: strawberry.ID


@strawberry.interface(
    description="An object with a Relay global id, `nodeId`, which `node(id:)` and "
    "`nodes(ids:)` resolve. Its `id` stays the type's own id (the federation key)."
)
class Node:
    @strawberry.field(
        description="The Relay global id: base64 of `Type:id` (File and Instance: "
        '`Type:id@version`, the version read at). Relay: `nodeInterfaceIdField: "nodeId"`.'
    )
    def node_id(self, info: strawberry.Info) -> strawberry.ID:
        # Resolves the types built in Python; Label, File and Instance are shaped in SQL
        # (`shapes.py`), never built here.
        this = cast(_Identified, self)
        return strawberry.ID(global_id(info._raw_info.parent_type.name, this.id))
