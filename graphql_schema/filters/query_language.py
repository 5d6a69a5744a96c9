"""The text filter language of `query:` (Diffgram style), parsed by lark into the filter tree.

    labels.car >= 3 and file.metadata.sensor = 'A'
    score > 0.8 and (kind in ('box', 'polygon') or attributes.occluded = true)
    count instances(label = 'car' and score > 0.8) >= 3
    not file.name like 'val/%' and inside(0, 0, 640, 360)

Grammar, loosest binding first: `or`, `and`, `not`, then one test —
- `field op value`, op one of `= == != > >= < <=`; `field [not] in (v, ...)`;
  `field is [not] null`; `field like 'pat%'`, `field ilike ...`; `json.path has 'key'`;
- `json.path op value` for the JSON fields (`attributes`, `metadata`): the rest of the dotted
  name is the path inside the object;
- `file.<test>` / `label.<test>` on instances: the instance's file or label matches; on
  instances `label op 'name'` compares the label's name;
- `labels.NAME [op n]` on files and frames: the number of instances with that label (no
  comparison: at least one); quote names with other characters: `labels."traffic light" > 0`;
- `any|no|every instances(...)`, `count instances(...) op n`, `any file(...)`;
- `inside(x0, y0, x1, y1)`: the instance's box lies inside.
Keywords are case-insensitive, names may be snake_case or camelCase, strings take single or double
quotes with backslash escapes. Errors name the line and column.
"""

from __future__ import annotations

import ast as pyast
from typing import Any

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from trainingdb.versioning.errors import InvalidFilterError

from .ast import (
    EVERYTHING,
    And,
    Box,
    Compare,
    Filter,
    Inside,
    JsonTest,
    Not,
    Op,
    Or,
    Quantifier,
    Related,
)
from .fields import FieldType, Target
from .inputs import snake

GRAMMAR = r"""
?start: or_expr?
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negate
         | atom
?atom: "(" or_expr ")"
     | test
test: name CMP value                         -> compare
    | name _IN "(" value ("," value)* ")"   -> membership
    | name _NOT _IN "(" value ("," value)* ")" -> exclusion
    | name _IS NULL                          -> null_test
    | name _IS _NOT NULL                     -> not_null_test
    | name LIKE STRING                       -> like
    | name _HAS STRING                       -> has_key
    | QUANT NAME "(" or_expr ")"             -> quantified
    | _COUNT NAME "(" or_expr ")" CMP INT    -> counted
    | _INSIDE "(" number "," number "," number "," number ")" -> inside
    | name (CMP INT)?                        -> label_count
name: part ("." part)*
part: NAME | STRING
?value: STRING -> string
      | number
      | TRUE -> true
      | FALSE -> false
      | NULL -> null
number: SIGNED_NUMBER
CMP: "==" | "!=" | ">=" | "<=" | "=" | ">" | "<"
QUANT.2: /(any|no|every)\b/i
_COUNT.2: /count\b/i
_INSIDE.2: /inside\b/i
_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
_IS.2: /is\b/i
_HAS.2: /has\b/i
LIKE.2: /i?like\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
NULL.2: /null\b/i
NAME: /[A-Za-z_][A-Za-z0-9_]*/
STRING: /'(?:[^'\\]|\\.)*'/ | /"(?:[^"\\]|\\.)*"/
INT: /\d+/
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

_OPS = {"=": Op.EQ, "==": Op.EQ, "!=": Op.NEQ, ">": Op.GT, ">=": Op.GTE, "<": Op.LT, "<=": Op.LTE}
_QUANTIFIERS = {"any": Quantifier.SOME, "no": Quantifier.NONE, "every": Quantifier.EVERY}
_WORDS = {
    "CMP": "a comparison (=, !=, >, >=, <, <=)",
    "STRING": "a quoted string",
    "SIGNED_NUMBER": "a number",
    "INT": "a whole number",
    "NAME": "a field name",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "DOT": "'.'",
    "$END": "the end of the query",
    "_AND": "and",
    "_OR": "or",
    "_IN": "in",
    "_IS": "is",
    "NULL": "null",
    "LIKE": "like",
    "_HAS": "has",
    "TRUE": "true",
    "FALSE": "false",
}


def _at(meta: Any) -> str:
    return f"query: line {meta.line}, column {meta.column}"


def _expected(error: UnexpectedInput) -> str:
    names = set(getattr(error, "expected", set()) or ())
    if {"STRING", "SIGNED_NUMBER"} <= names:
        return "expected a value (a number, a quoted string, true or false)"
    if "CMP" in names and len(names) > 4:
        return "expected an operator (=, !=, >, >=, <, <=, in, is, like, has)"
    words = sorted({_WORDS.get(name, name.lower()) for name in names})
    return "expected " + (" or ".join(words) if len(words) < 5 else "a test")


def _syntax_error(text: str, error: UnexpectedInput) -> InvalidFilterError:
    token = getattr(error, "token", None)
    if isinstance(error, UnexpectedEOF) or (token is not None and token.type == "$END"):
        lines = text.splitlines() or [""]
        where = f"query: line {len(lines)}, column {len(lines[-1]) + 1}"
        return InvalidFilterError(f"{where}: the query ends too early; {_expected(error)}")
    where = f"query: line {error.line}, column {error.column}"
    if isinstance(error, UnexpectedCharacters):
        return InvalidFilterError(f"{where}: unexpected character {error.char!r}")
    shown = repr(token.value) if token is not None and token.value else "input"
    return InvalidFilterError(f"{where}: unexpected {shown}; {_expected(error)}")


def _string(token: Token) -> str:
    value = pyast.literal_eval(token.value)
    assert isinstance(value, str)
    return value


class _Converter:
    """Tree -> filter, for one target; relations convert their inner test for their target."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def filter(self, tree: Tree[Token] | Token) -> Filter:
        assert isinstance(tree, Tree)
        match tree.data:
            case "or_expr":
                return _flat(Or, [self.filter(c) for c in tree.children], Or)
            case "and_expr":
                return _flat(And, [self.filter(c) for c in tree.children], And)
            case "negate":
                return Not(self.filter(tree.children[0]))
        return self._test(tree)

    def _test(self, tree: Tree[Token]) -> Filter:
        kids = tree.children
        where = _at(tree.meta)
        match tree.data:
            case "compare":
                names, op, value = _names(kids[0]), _OPS[str(kids[1])], _value(kids[2], where)
                return self._on(names, op, value, where)
            case "membership" | "exclusion":
                values = [_value(k, where) for k in kids[1:]]
                op = Op.IN if tree.data == "membership" else Op.NIN
                return self._on(_names(kids[0]), op, values, where)
            case "null_test" | "not_null_test":
                return self._on(_names(kids[0]), Op.IS_NULL, tree.data == "null_test", where)
            case "like":
                op = Op.ILIKE if str(kids[1]).lower() == "ilike" else Op.LIKE
                return self._on(_names(kids[0]), op, _string(kids[2]), where)  # type: ignore[arg-type]
            case "has_key":
                return self._on(_names(kids[0]), Op.HAS_KEY, _string(kids[1]), where)  # type: ignore[arg-type]
            case "quantified":
                return self._quantified(str(kids[0]).lower(), str(kids[1]), kids[2], where)
            case "counted":
                return self._counted(str(kids[0]), kids[1], str(kids[2]), int(str(kids[3])), where)
            case "inside":
                return self._inside([_number(k) for k in kids], where)
            case "label_count":
                return self._label_count(kids, where)
        raise AssertionError(tree.data)

    def _on(self, names: list[str], op: Op, value: Any, where: str) -> Filter:
        """A test on a (dotted) name: a field, a JSON path, or a to-one relation's field."""
        head = snake(names[0])
        if head == self.target.name.removesuffix("s") and len(names) > 1 and head == "file":
            return self._on(names[1:], op, value, where)
        if head in self.target.relations and head not in self.target.fields:
            relation = self.target.relation(head, where)
            if relation.to_many:
                raise InvalidFilterError(
                    f"{where}: {head} is a list; use any/no/every {head}(...) or count {head}(...)"
                )
            if len(names) == 1:
                if head != "label":
                    raise InvalidFilterError(f"{where}: compare a field of {head}: {head}.name")
                return Related("label", Compare("name", op, value))
            return Related(head, _Converter(relation.target)._on(names[1:], op, value, where))
        if head == "labels":
            # `labels.car >= 3` parses as a comparison: a whole number makes it a label count.
            if not isinstance(value, int) or isinstance(value, bool) or op not in _OPS.values():
                raise InvalidFilterError(f"{where}: compare labels.NAME with a whole number")
            return self._label_count_of(names, (op, value), where)
        field = self.target.field(head, where)
        if field.type is FieldType.JSON:
            if op in (Op.HAS_KEY,) or len(names) > 1 or op is Op.IS_NULL:
                return JsonTest(field.name, tuple(names[1:]), op, value)
            raise InvalidFilterError(
                f"{where}: compare a path inside {field.name} ({field.name}.key)"
            )
        if len(names) > 1:
            raise InvalidFilterError(f"{where}: {field.name} has no parts ({'.'.join(names)})")
        if op is Op.HAS_KEY:
            raise InvalidFilterError(f"{where}: has applies to JSON fields, not {field.name}")
        if value is None and op is not Op.IS_NULL:
            raise InvalidFilterError(f"{where}: null compares only with 'is null' / 'is not null'")
        return Compare(field.name, op, value)

    def _quantified(self, word: str, name: str, inner: Any, where: str) -> Filter:
        relation = self.target.relation(snake(name), where)
        quantifier = _QUANTIFIERS[word]
        if not relation.to_many and quantifier is not Quantifier.SOME:
            raise InvalidFilterError(f"{where}: {name} is one entity: use any {name}(...)")
        return Related(relation.name, _Converter(relation.target).filter(inner), quantifier)

    def _counted(self, name: str, inner: Any, cmp: str, n: int, where: str) -> Filter:
        relation = self.target.relation(snake(name), where)
        if not relation.to_many:
            raise InvalidFilterError(f"{where}: count applies to lists; {name} is one entity")
        return Related(
            relation.name, _Converter(relation.target).filter(inner), count=(_OPS[cmp], n)
        )

    def _inside(self, box: list[float], where: str) -> Filter:
        if not self.target.spatial:
            raise InvalidFilterError(f"{where}: {self.target.name} have no geometry for inside()")
        return Inside(Box(*box))

    def _label_count(self, kids: list[Any], where: str) -> Filter:
        names = _names(kids[0])
        if len(kids) == 1:
            return self._label_count_of(names, None, where)
        return self._label_count_of(names, (_OPS[str(kids[1])], int(kids[2])), where)

    def _label_count_of(self, names: list[str], count: tuple[Op, int] | None, where: str) -> Filter:
        if snake(names[0]) != "labels" or len(names) != 2:
            raise InvalidFilterError(
                f"{where}: {'.'.join(names)} needs a comparison (only labels.NAME stands alone)"
            )
        if "instances" not in self.target.relations:
            raise InvalidFilterError(
                f"{where}: {self.target.name} have no labels list"
                + ("; use label = 'name'" if "label" in self.target.relations else "")
            )
        inner = Related("label", Compare("name", Op.EQ, names[1]))
        if count is None:
            return Related("instances", inner)
        return Related("instances", inner, count=count)


def _flat(kind: type[And] | type[Or], parts: list[Filter], same: type[And] | type[Or]) -> Filter:
    flat: list[Filter] = []
    for part in parts:
        flat += list(part.parts) if isinstance(part, same) else [part]
    return kind(tuple(flat))


def _names(tree: Any) -> list[str]:
    names = []
    for part in tree.children:
        token = part.children[0]
        names.append(_string(token) if token.type == "STRING" else str(token))
    return names


def _number(tree: Any) -> float:
    return float(tree.children[0])


def _value(tree: Any, where: str) -> Any:
    match tree.data:
        case "string":
            return _string(tree.children[0])
        case "number":
            text = str(tree.children[0])
            return float(text) if any(c in text for c in ".eE") else int(text)
        case "true":
            return True
        case "false":
            return False
    raise InvalidFilterError(f"{where}: null compares only with 'is null' / 'is not null'")


def parse_query(text: str, target: Target) -> Filter:
    """The filter tree for `text` over `target`; INVALID_FILTER pointing at the column otherwise."""
    if not text.strip():
        return EVERYTHING
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    return _Converter(target).filter(tree)
