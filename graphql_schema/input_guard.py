"""Every value of a request checked once, before any resolver runs (`versioning.inputs`).

A request carries values two ways: in variables (parsed from the JSON body) and as literals in
the document. Both are walked here, after validation, so a NUL, a lone surrogate, an oversized
string, an integer wider than 64 bits or a non-finite float inside any argument, input object,
list or JSON value answers one BAD_USER_INPUT that names the variable or the argument and the
position, instead of failing wherever the value first meets the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumValueNode,
    FieldNode,
    FloatValueNode,
    GraphQLError,
    IntValueNode,
    ListValueNode,
    Node,
    NullValueNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension

from trainingdb.versioning.errors import InvalidInputError
from trainingdb.versioning.inputs import MAX_DEPTH, check_value, scalar_problem


def _number(node: IntValueNode | FloatValueNode) -> int | float:
    # Literals are digits as text; what a JSON argument receives is the Python number.
    return int(node.value) if isinstance(node, IntValueNode) else float(node.value)


def _literal_problem(value: ValueNode) -> tuple[str, str, Node] | None:
    """The first unstorable position inside a literal (path, why, node), or None."""
    stack: list[tuple[ValueNode, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, ObjectValueNode | ListValueNode):
            if depth >= MAX_DEPTH:
                return path, f"is nested more than {MAX_DEPTH} levels deep", node
            if isinstance(node, ObjectValueNode):
                children = [(f.value, f"{path}.{f.name.value}", depth + 1) for f in node.fields]
            else:
                children = [(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node.values)]
            stack.extend(reversed(children))
            continue
        if isinstance(node, StringValueNode):
            why = scalar_problem(node.value)
        elif isinstance(node, IntValueNode | FloatValueNode):
            why = scalar_problem(_number(node))
        else:
            assert isinstance(node, VariableNode | BooleanValueNode | NullValueNode | EnumValueNode)
            why = None  # variables are checked as variables; the rest are always storable
        if why is not None:
            return path, why, node
    return None


class _Literals(Visitor):
    """Collects the first bad literal argument of a document."""

    def __init__(self) -> None:
        super().__init__()
        self.error: GraphQLError | None = None
        self._owners: list[str] = []

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self._owners.append(f"field {node.name.value}")

    def leave_field(self, *_: Any) -> None:
        self._owners.pop()

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self._owners.append(f"directive @{node.name.value}")

    def leave_directive(self, *_: Any) -> None:
        self._owners.pop()

    def enter_argument(self, node: Any, *_: Any) -> Any:
        if self.error is None:
            found = _literal_problem(node.value)
            if found is not None:
                path, why, at = found
                owner = self._owners[-1] if self._owners else "the document"
                message = f"argument {node.name.value}{path} of {owner} {why}"
                self.error = GraphQLError(
                    message, nodes=[at], original_error=InvalidInputError(message)
                )
        return self.SKIP  # values are walked above, without recursion


def request_error(document: DocumentNode, variables: dict[str, Any] | None) -> GraphQLError | None:
    """request_error: the first value of the request that cannot be stored, as a GraphQL error
    naming where it is; None when every value can be; O(size of the request)."""
    for name, value in (variables or {}).items():
        try:
            check_value(value, f"variable ${name}")
        except InvalidInputError as error:
            return GraphQLError(error.message, original_error=error)
    literals = _Literals()
    visit(document, literals)
    return literals.error


class InputGuard(SchemaExtension):
    """Answers a request whose values cannot be stored with BAD_USER_INPUT, before execution."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # Runs after CachedValidation: only a document that validated is walked (its list is
        # shared by every request of the same document, so it is replaced, never appended to).
        if context.pre_execution_errors == [] and context.graphql_document is not None:
            error = request_error(context.graphql_document, context.variables)
            if error is not None:
                context.pre_execution_errors = [error]
        yield
