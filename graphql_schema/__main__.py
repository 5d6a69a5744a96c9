"""`python -m trainingdb.graphql_schema` prints the SDL kept in graphql_schema/schema.graphql."""

from .schema import schema

print(schema.as_str())
