"""The selection set under a field, resolved: fragments inlined, @skip/@include applied, aliases
kept as response keys, arguments coerced — what the SQL shaper turns into one JSON statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
)
from graphql.execution import values as graphql_values
from graphql.execution.values import get_argument_values, get_directive_values


@dataclass(frozen=True, slots=True)
class Picked:
    """One response key: the schema field it reads, its arguments and its own selection."""

    key: str
    name: str
    args: dict[str, Any]
    type: GraphQLObjectType | None
    children: tuple[Picked, ...]


def variables_of(info: GraphQLResolveInfo[Any]) -> Any:
    """The operation's variables in the form graphql-core's argument coercion takes.

    Strawberry hands resolvers the plain coerced dict; graphql-core 3.3 coerces arguments from
    its `VariableValues` container (3.2 took the dict).
    """
    variables: Any = info.variable_values
    container = getattr(graphql_values, "VariableValues", None)
    if container is not None and isinstance(variables, dict):
        return container({}, variables)
    return variables


def _included(node: Any, variables: Any) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return include is None or include.get("if") is True


class _Collector:
    def __init__(self, info: GraphQLResolveInfo[Any]) -> None:
        self.info = info
        self.variables = variables_of(info)

    def fields(self, parent: GraphQLObjectType, nodes: Iterable[FieldNode]) -> tuple[Picked, ...]:
        grouped: dict[str, list[FieldNode]] = {}
        for node in nodes:
            if node.selection_set is not None:
                self._visit(parent, node.selection_set, grouped)
        return tuple(self._picked(parent, key, group) for key, group in grouped.items())

    def _visit(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
    ) -> None:
        variables = self.variables
        for selection in selection_set.selections:
            if not _included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, parent):
                    self._visit(parent, selection.selection_set, grouped)
            elif isinstance(selection, FragmentSpreadNode):
                fragment: Any = self.info.fragments[selection.name.value]
                # graphql-core 3.3 wraps definitions in FragmentDetails; 3.2 gives them bare.
                definition = getattr(fragment, "definition", fragment)
                if self._applies(definition.type_condition.name.value, parent):
                    self._visit(parent, definition.selection_set, grouped)

    def _applies(self, condition: str, parent: GraphQLObjectType) -> bool:
        """A fragment on `condition` applies to `parent` objects: it is `parent`, or an abstract
        type `parent` belongs to (the `_Entity` union of `_entities`, the `Node` interface)."""
        if condition == parent.name:
            return True
        schema = self.info.schema
        named = schema.get_type(condition)
        return is_abstract_type(named) and schema.is_sub_type(named, parent)

    def _picked(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> Picked:
        name = nodes[0].name.value
        if name == "__typename":
            return Picked(key, name, {}, None, ())
        field = parent.fields[name]
        args = get_argument_values(field, nodes[0], self.variables)
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            return Picked(key, name, args, named, self.fields(named, nodes))
        return Picked(key, name, args, None, ())


def selected(info: GraphQLResolveInfo[Any]) -> tuple[Picked, ...]:
    """What the query selects under the field being resolved (whose type must be an object)."""
    named = get_named_type(info.return_type)
    assert isinstance(named, GraphQLObjectType), named
    return _Collector(info).fields(named, info.field_nodes)


def selected_as(info: GraphQLResolveInfo[Any], parent: GraphQLObjectType) -> tuple[Picked, ...]:
    """What the query selects under the field being resolved for objects of type `parent`, when
    the field's type is abstract (`_entities: [_Entity]`, `nodes: [Node]`): fields selected on
    the abstract type itself, and fragments on `parent` or on an abstract type containing it,
    apply."""
    return _Collector(info).fields(parent, info.field_nodes)


def child(picked: Iterable[Picked], name: str) -> list[Picked]:
    """The response keys among `picked` that read field `name`."""
    return [p for p in picked if p.name == name]
