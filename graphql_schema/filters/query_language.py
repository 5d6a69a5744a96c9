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
quotes with backslash escapes (`_string`). Errors name the line and column.

Hostile text is refused before it costs anything (limits in `ast.py`): longer than
MAX_QUERY_CHARS, parentheses or operators nested deeper than MAX_DEPTH (checked before each
recursion, so nothing recurses without bound), more than MAX_TERMS tests or MAX_VALUES in-list
values, a list relation inside another, a string holding a NUL or a lone surrogate, a number its
field's column cannot hold. The limits live in the parser, so they hold wherever the text comes
from: an inline argument, a variable, an export job, the CLI.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from trainingdb.versioning.errors import InvalidFilterError

from .ast import (
    EVERYTHING,
    MAX_DEPTH,
    MAX_LIST_RELATIONS,
    MAX_QUERY_CHARS,
    And,
    Box,
    Budget,
    Compare,
    Filter,
    Inside,
    JsonTest,
    Not,
    Op,
    Or,
    Quantifier,
    Related,
    too_deep,
)
from .compiler import check_box, check_json, checked
from .fields import INT64, FieldType, Target, shown
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


def _at_node(node: Tree[Token] | Token) -> str:
    assert isinstance(node, Tree)
    return _at(node.meta)


def _at_offset(text: str, offset: int) -> str:
    """`_at` for a character offset into `text` (lark's counting: lines end at newlines)."""
    line, line_start = text.count("\n", 0, offset) + 1, text.rfind("\n", 0, offset) + 1
    return f"query: line {line}, column {offset - line_start + 1}"


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
        where = _at_offset(text, len(text))
        return InvalidFilterError(f"{where}: the query ends too early; {_expected(error)}")
    where = f"query: line {error.line}, column {error.column}"
    if isinstance(error, UnexpectedCharacters):
        return InvalidFilterError(f"{where}: unexpected character {error.char!r}")
    shown = repr(token.value) if token is not None and token.value else "input"
    return InvalidFilterError(f"{where}: unexpected {shown}; {_expected(error)}")


# What the lexer reads as one string (the STRING pattern), so parentheses inside do not count.
_PARENTHESIS_OR_STRING = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[()]""")


def _check_parentheses(text: str) -> None:
    """INVALID_FILTER at the first parenthesis nested deeper than MAX_DEPTH. Before parsing:
    even redundant parentheses cost the parser, and a real filter needs a few."""
    depth = 0
    for match in _PARENTHESIS_OR_STRING.finditer(text):
        if match.group() == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise too_deep(_at_offset(text, match.start()))
        elif match.group() == ")":
            depth = max(depth - 1, 0)  # one too many: the parser says where


_ESCAPE = re.compile(
    r"\\(?:x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{1,3})|N\{([^}]*)\}|(.))",
    re.DOTALL,
)
_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_ESCAPE_FORMS = {
    "x": "\\xhh (two hex digits)",
    "u": "\\uhhhh (four hex digits)",
    "U": "\\Uhhhhhhhh (eight hex digits)",
    "N": "\\N{NAME}",
}
# No text column holds a NUL, and UTF-8 (so the driver) cannot encode a lone surrogate.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _high(char: str) -> bool:
    return len(char) == 1 and 0xD800 <= ord(char) <= 0xDBFF


def _low(char: str) -> bool:
    return len(char) == 1 and 0xDC00 <= ord(char) <= 0xDFFF


def _unstorable(char: str, where: str) -> InvalidFilterError:
    if char == "\x00":
        return InvalidFilterError(f"{where}: a string may not hold a NUL (U+0000)")
    return InvalidFilterError(
        f"{where}: a string may not hold a lone surrogate (U+{ord(char):04X}), which is not a "
        "character"
    )


# The most digits of a whole number any column can hold: a double reaches 1.8e308.
_MAX_DIGITS = 309


@dataclass(frozen=True, slots=True)
class _Reading:
    """What the converters of one query share: its text (for positions) and its budget."""

    text: str
    budget: Budget


class _Converter:
    """Tree -> filter, for one target; relations convert their inner test for their target.
    `lists` counts the list relations around (MAX_LIST_RELATIONS)."""

    def __init__(self, target: Target, reading: _Reading, lists: int = 0) -> None:
        self.target = target
        self.reading = reading
        self.lists = lists

    def filter(self, tree: Tree[Token] | Token, depth: int) -> Filter:
        """`tree` as a filter; `depth` levels of operators are around it."""
        assert isinstance(tree, Tree)
        match tree.data:
            case "or_expr" | "and_expr" | "negate":
                # Checked before recursing, so no text recurses deeper than MAX_DEPTH.
                depth = _deeper(tree, depth)
                parts = [self.filter(c, depth) for c in tree.children]
                if tree.data == "negate":
                    return Not(parts[0])
                return _flat(And, parts) if tree.data == "and_expr" else _flat(Or, parts)
        return self._test(tree, depth)

    def _test(self, tree: Tree[Token], depth: int) -> Filter:
        kids = tree.children
        where = _at(tree.meta)
        values = len(kids) - 1 if tree.data in ("membership", "exclusion") else 0
        self.reading.budget.term(where, values)
        match tree.data:
            case "compare":
                names, value = self._names(kids[0], where), self._value(kids[2], where)
                return self._on(names, _OPS[str(kids[1])], value, where, [_at_node(kids[2])])
            case "membership" | "exclusion":
                items = [self._value(k, where) for k in kids[1:]]
                op = Op.IN if tree.data == "membership" else Op.NIN
                names, at = self._names(kids[0], where), [_at_node(k) for k in kids[1:]]
                return self._on(names, op, items, where, at)
            case "null_test" | "not_null_test":
                names = self._names(kids[0], where)
                return self._on(names, Op.IS_NULL, tree.data == "null_test", where)
            case "like":
                op = Op.ILIKE if str(kids[1]).lower() == "ilike" else Op.LIKE
                pattern = self._string(_token(kids[2]))
                return self._on(self._names(kids[0], where), op, pattern, where)
            case "has_key":
                key = self._string(_token(kids[1]))
                return self._on(self._names(kids[0], where), Op.HAS_KEY, key, where)
            case "quantified":
                word, name = str(kids[0]).lower(), str(kids[1])
                return self._quantified(word, name, kids[2], where, _deeper(tree, depth))
            case "counted":
                count = (_OPS[str(kids[2])], _count(_number(str(kids[3]), where), where))
                return self._counted(str(kids[0]), kids[1], count, where, _deeper(tree, depth))
            case "inside":
                return self._inside([_coordinate(k) for k in kids], where)
            case "label_count":
                return self._label_count(kids, where)
        raise AssertionError(tree.data)

    def _on(
        self, names: list[str], op: Op, value: Any, where: str, at: list[str] | None = None
    ) -> Filter:
        """A test on a (dotted) name: a field, a JSON path, or a to-one relation's field. `at`
        is where each value is written (one, or one per in-list item), for errors about it."""
        head = snake(names[0])
        if head == self.target.name.removesuffix("s") and len(names) > 1 and head == "file":
            return self._on(names[1:], op, value, where, at)
        if head in self.target.relations and head not in self.target.fields:
            relation = self.target.relation(head, where)
            if relation.to_many:
                raise InvalidFilterError(
                    f"{where}: {head} is a list; use any/no/every {head}(...) or count {head}(...)"
                )
            inner = _Converter(relation.target, self.reading, self.lists)
            if len(names) == 1:
                if head != "label":
                    raise InvalidFilterError(f"{where}: compare a field of {head}: {head}.name")
                return Related("label", inner._on(["name"], op, value, where, at))
            return Related(head, inner._on(names[1:], op, value, where, at))
        if head == "labels":
            # `labels.car >= 3` parses as a comparison: a whole number makes it a label count.
            if not isinstance(value, int) or isinstance(value, bool) or op not in _OPS.values():
                raise InvalidFilterError(f"{where}: compare labels.NAME with a whole number")
            return self._label_count_of(names, (op, _count(value, where)), where)
        field = self.target.field(head, where)
        if field.type is FieldType.JSON:
            if op in (Op.HAS_KEY,) or len(names) > 1 or op is Op.IS_NULL:
                for item, item_at in _items(op, value, where, at):
                    check_json(item, item_at)
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
        # The compiler checks again; here the error can point at the text.
        if op in (Op.IN, Op.NIN):
            checked(self.target, field.name, op, [], where)  # the operator; each item as _eq
            for item, item_at in _items(op, value, where, at):
                checked(self.target, field.name, Op.EQ, item, item_at)
        else:
            checked(self.target, field.name, op, value, at[0] if at else where)
        return Compare(field.name, op, value)

    def _list(self, name: str, where: str) -> _Converter:
        """The converter for the inside of list relation `name`."""
        relation = self.target.relation(snake(name), where)
        if relation.to_many and self.lists >= MAX_LIST_RELATIONS:
            raise InvalidFilterError(
                f"{where}: {name}(...) is a list inside another list relation; lists nest at "
                f"most {MAX_LIST_RELATIONS} deep, since each multiplies the rows read"
            )
        return _Converter(relation.target, self.reading, self.lists + relation.to_many)

    def _quantified(self, word: str, name: str, inner: Any, where: str, depth: int) -> Filter:
        relation = self.target.relation(snake(name), where)
        quantifier = _QUANTIFIERS[word]
        if not relation.to_many and quantifier is not Quantifier.SOME:
            raise InvalidFilterError(f"{where}: {name} is one entity: use any {name}(...)")
        matched = self._list(name, where).filter(inner, depth)
        return Related(relation.name, matched, quantifier)

    def _counted(
        self, name: str, inner: Any, count: tuple[Op, int], where: str, depth: int
    ) -> Filter:
        relation = self.target.relation(snake(name), where)
        if not relation.to_many:
            raise InvalidFilterError(f"{where}: count applies to lists; {name} is one entity")
        return Related(relation.name, self._list(name, where).filter(inner, depth), count=count)

    def _inside(self, box: list[float], where: str) -> Filter:
        if not self.target.spatial:
            raise InvalidFilterError(f"{where}: {self.target.name} have no geometry for inside()")
        check_box(Box(*box), where)
        return Inside(Box(*box))

    def _label_count(self, kids: list[Any], where: str) -> Filter:
        names = self._names(kids[0], where)
        if len(kids) == 1:
            return self._label_count_of(names, None, where)
        count = (_OPS[str(kids[1])], _count(_number(str(kids[2]), where), where))
        return self._label_count_of(names, count, where)

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
        self._list("instances", where)
        inner = Related("label", Compare("name", Op.EQ, names[1]))
        if count is None:
            return Related("instances", inner)
        return Related("instances", inner, count=count)

    def _names(self, tree: Any, where: str) -> list[str]:
        parts = tree.children
        if len(parts) > MAX_DEPTH:
            raise InvalidFilterError(
                f"{where}: the name has {len(parts)} parts; at most {MAX_DEPTH} are allowed"
            )
        names = []
        for part in parts:
            token = part.children[0]
            names.append(self._string(token) if token.type == "STRING" else str(token))
        return names

    def _value(self, tree: Any, where: str) -> Any:
        match tree.data:
            case "string":
                return self._string(tree.children[0])
            case "number":
                return _number(str(tree.children[0]), where)
            case "true":
                return True
            case "false":
                return False
        raise InvalidFilterError(f"{where}: null compares only with 'is null' / 'is not null'")

    def _string(self, token: Token) -> str:
        r"""The text a quoted string spells: Python's backslash escapes (`\'`, `\n`, `\xhh`,
        `\uhhhh` — an escaped surrogate pair is one character — `\N{NAME}`, ...), an unknown one
        kept as written (`\%` reaches LIKE as its escape). INVALID_FILTER at the character for a
        NUL, a lone surrogate or a malformed escape."""
        # The lexer sets every token's position; only hand-made tokens lack one.
        body, start = token.value[1:-1], (token.start_pos or 0) + 1
        out: list[str] = []
        high: tuple[str, int] | None = None  # an escaped high surrogate, until its low half
        last = 0
        for match in _ESCAPE.finditer(body):
            if match.start() > last:
                out.append(self._plain(body[last : match.start()], start + last))
            offset = start + match.start()
            char = self._escape(match, offset)
            if high is not None and match.start() == last and _low(char):
                out.append(chr(0x10000 + ((ord(high[0]) - 0xD800) << 10) + ord(char) - 0xDC00))
                high = None
            elif high is not None:
                raise _unstorable(high[0], self._at(high[1]))
            elif _high(char):
                high = (char, offset)
            elif _low(char) or char == "\x00":
                raise _unstorable(char, self._at(offset))
            else:
                out.append(char)
            last = match.end()
        if high is not None:
            raise _unstorable(high[0], self._at(high[1]))
        out.append(self._plain(body[last:], start + last))
        return "".join(out)

    def _plain(self, text: str, offset: int) -> str:
        """Characters of a string as written, refused if a text column cannot hold them."""
        found = _UNSTORABLE.search(text)
        if found is not None:
            raise _unstorable(found.group(), self._at(offset + found.start()))
        return text

    def _escape(self, match: re.Match[str], offset: int) -> str:
        hex_code = match.group(1) or match.group(2) or match.group(3)
        if hex_code is not None:
            code = int(hex_code, 16)
            if code > 0x10FFFF:
                raise InvalidFilterError(f"{self._at(offset)}: {match.group()} is not a character")
            return chr(code)
        if match.group(4) is not None:
            return chr(int(match.group(4), 8))
        if match.group(5) is not None:
            try:
                return unicodedata.lookup(match.group(5))
            except KeyError:
                raise InvalidFilterError(
                    f"{self._at(offset)}: {match.group()!r} names no character"
                ) from None
        char = match.group(6)
        if char in _ESCAPE_FORMS:
            raise InvalidFilterError(
                f"{self._at(offset)}: malformed escape {match.group()!r}; write "
                f"{_ESCAPE_FORMS[char]}"
            )
        return _SIMPLE_ESCAPES.get(char, match.group())

    def _at(self, offset: int) -> str:
        return _at_offset(self.reading.text, offset)


def _items(op: Op, value: Any, where: str, at: list[str] | None) -> list[tuple[Any, str]]:
    """The values of a test (each item of an in-list) with where each is written."""
    items = value if op in (Op.IN, Op.NIN) and isinstance(value, list) else [value]
    return list(zip(items, at or [where] * len(items), strict=True))


def _token(node: Tree[Token] | Token) -> Token:
    assert isinstance(node, Token)
    return node


def _deeper(tree: Tree[Token], depth: int) -> int:
    """The depth inside operator `tree`, which is `depth` deep; INVALID_FILTER past MAX_DEPTH."""
    if depth >= MAX_DEPTH:
        raise too_deep(_at(tree.meta))
    return depth + 1


def _flat(kind: type[And] | type[Or], parts: list[Filter]) -> Filter:
    flat: list[Filter] = []
    for part in parts:
        flat += list(part.parts) if isinstance(part, kind) else [part]
    return kind(tuple(flat))


def _number(text: str, where: str) -> int | float:
    """A number literal: a float if written with a point or an exponent (one too large is inf,
    which no field takes), else an int; the compiler's checks say whether its field holds it."""
    if any(c in text for c in ".eE"):
        return float(text)
    digits = len(text.lstrip("+-").lstrip("0"))
    if digits > _MAX_DIGITS:
        # int() would refuse past 4,300 digits; no column holds a number this long anyway.
        raise InvalidFilterError(f"{where}: a number of {digits} digits is out of range")
    return int(text)


def _count(n: int | float, where: str) -> int:
    """A whole number a count is compared with, at most a bigint (what count(*) is)."""
    assert isinstance(n, int)
    if n > INT64.high:
        raise InvalidFilterError(
            f"{where}: {shown(n)} is out of range for a count (at most {int(INT64.high)})"
        )
    return n


def _coordinate(tree: Any) -> float:
    return float(tree.children[0])


def parse_query(text: str, target: Target) -> Filter:
    """The filter tree for `text` over `target`; INVALID_FILTER pointing at the column otherwise."""
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidFilterError(
            f"{_at_offset(text, MAX_QUERY_CHARS)}: the query is {len(text)} characters long; at "
            f"most {MAX_QUERY_CHARS} are allowed"
        )
    if not text.strip():
        return EVERYTHING
    _check_parentheses(text)
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(text, error) from None
    reading = _Reading(text, Budget())
    flt = _Converter(target, reading).filter(tree, 0)
    reading.budget.close("the query")
    return flt
