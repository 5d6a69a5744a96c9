"""Every GraphQL document the client sends, and nowhere else: tests/client/test_queries.py
validates each against the committed schema (graphql_schema/schema.graphql), and checks that no
other client module holds one.

Documents take every argument as a variable (never pasted into the text), so a document's text
is constant and the server's parse and validation cache serves it. The fragments below select
exactly the fields the dataclasses of `types.py` and `records.py` read.
"""

from __future__ import annotations

_DATASET = """
fragment DatasetFields on Dataset { id name description defaultBranch createdAt }
"""
_BRANCH = """
fragment BranchFields on Branch { id name headSeq protected createdAt }
"""
_TAG = """
fragment TagFields on Tag { id name branch seq version message createdBy createdAt }
"""
_COMMIT = """
fragment CommitFields on Commit {
  id branch seq version message author parents generation mergedFrom createdAt
}
"""
_LABEL = """
fragment LabelFields on Label { id name color description attributeSchema }
"""
_FILE = """
fragment FileFields on File {
  id version name blobSha256 mediaType width height fps frameCount duration metadata url
}
"""
_INSTANCE = """
fragment InstanceFields on Instance {
  id version fileId frameNumber labelId label { name } kind x y w h points textStart textEnd
  attributes score source modelRun { id } trackId author
}
"""
_JOB = """
fragment JobFields on BatchJob {
  id dataset kind status total done failed errors { record message } result message download
  finishedAt
}
"""
# Every paged read asks for the same page information (docs/QUERIES.md, "Ordering and paging").
_PAGE = "pageInfo { hasNextPage endCursor }"

# --- reads ---------------------------------------------------------------------------------

DATASETS = "query Datasets { datasets { ...DatasetFields } }" + _DATASET

DATASET = "query Dataset($name: String!) { dataset(name: $name) { ...DatasetFields } }" + _DATASET

BRANCHES = (
    "query Branches($dataset: String!) { dataset(name: $dataset) { branches { ...BranchFields } } }"
    + _BRANCH
)

TAGS = "query Tags($dataset: String!) { dataset(name: $dataset) { tags { ...TagFields } } }" + _TAG

COMMITS = (
    """query Commits($dataset: String!, $version: String, $first: Int!) {
  dataset(name: $dataset) { commits(version: $version, first: $first) { ...CommitFields } }
}"""
    + _COMMIT
)

LABELS = (
    f"""query Labels($dataset: String!, $version: String, $first: Int, $after: String) {{
  dataset(name: $dataset) {{
    labels(version: $version, first: $first, after: $after) {{
      {_PAGE} nodes {{ ...LabelFields }}
    }}
  }}
}}"""
    + _LABEL
)

FILES = (
    f"""query Files(
  $dataset: String!, $version: String, $where: FileWhere, $query: String,
  $orderBy: [FileOrder!], $first: Int, $after: String
) {{
  dataset(name: $dataset) {{
    files(version: $version, where: $where, query: $query, orderBy: $orderBy, first: $first,
          after: $after) {{
      {_PAGE} nodes {{ ...FileFields }}
    }}
  }}
}}"""
    + _FILE
)

INSTANCES = (
    f"""query Instances(
  $dataset: String!, $version: String, $where: InstanceWhere, $query: String,
  $orderBy: [InstanceOrder!], $first: Int, $after: String
) {{
  dataset(name: $dataset) {{
    instances(version: $version, where: $where, query: $query, orderBy: $orderBy,
              first: $first, after: $after) {{
      {_PAGE} nodes {{ ...InstanceFields }}
    }}
  }}
}}"""
    + _INSTANCE
)

# TrainingSet (data.py): a batch of files by id, each with its annotations matching the set's
# filter, in one request.
SAMPLES = (
    """query Samples(
  $dataset: String!, $version: String!, $ids: [ID!]!, $first: Int!, $where: InstanceWhere,
  $query: String, $instances: Int!
) {
  dataset(name: $dataset) {
    files(version: $version, where: {id: {_in: $ids}}, first: $first) {
      nodes {
        ...FileFields
        instances(where: $where, query: $query, first: $instances) { ...InstanceFields }
      }
    }
  }
}"""
    + _FILE
    + _INSTANCE
)

DIFF = """query Diff(
  $dataset: String!, $fromVersion: String!, $toVersion: String!, $first: Int!, $after: String
) {
  dataset(name: $dataset) {
    diff(from: $fromVersion, to: $toVersion, first: $first, after: $after) {
      changes { kind entityId change before after }
      hasNextPage
      endCursor
    }
  }
}"""

JOB = "query Job($id: ID!) { job(id: $id) { ...JobFields } }" + _JOB

# --- writes --------------------------------------------------------------------------------

CREATE_DATASET = (
    """mutation CreateDataset($name: String!, $description: String!, $defaultBranch: String!) {
  createDataset(name: $name, description: $description, defaultBranch: $defaultBranch) {
    ...DatasetFields
  }
}"""
    + _DATASET
)

CREATE_BRANCH = (
    """mutation CreateBranch($dataset: String!, $name: String!, $from: String, $author: String!) {
  createBranch(dataset: $dataset, name: $name, from: $from, author: $author) { ...BranchFields }
}"""
    + _BRANCH
)

CREATE_TAG = (
    """mutation CreateTag(
  $dataset: String!, $name: String!, $version: String!, $message: String!, $author: String!
) {
  createTag(dataset: $dataset, name: $name, version: $version, message: $message,
            author: $author) { ...TagFields }
}"""
    + _TAG
)

COMMIT = (
    """mutation Commit($dataset: String!, $branch: String!, $message: String!, $author: String!) {
  commit(dataset: $dataset, branch: $branch, message: $message, author: $author) {
    ...CommitFields
  }
}"""
    + _COMMIT
)

MERGE = (
    """mutation Merge(
  $dataset: String!, $source: String!, $target: String!, $strategy: MergeStrategy!,
  $fieldStrategies: [FieldStrategy!], $message: String, $author: String!
) {
  merge(dataset: $dataset, source: $source, target: $target, strategy: $strategy,
        fieldStrategies: $fieldStrategies, message: $message, author: $author) {
    merged upToDate fastForward changes base
    commit { ...CommitFields }
    baseCommit { ...CommitFields }
    conflicts {
      kind entityId sourceChange targetChange message fields { field base ours theirs }
    }
  }
}"""
    + _COMMIT
)

CREATE_LABELS = (
    """mutation CreateLabels($dataset: String!, $branch: String!, $labels: [LabelInput!]!) {
  createLabels(dataset: $dataset, branch: $branch, labels: $labels) { ...LabelFields }
}"""
    + _LABEL
)

# Bulk instance writes answer ids only: a batch of 50,000 shaped in full would be sent for
# nothing; read the rows back with `instances(...)` when they are wanted.
CREATE_INSTANCES = """mutation CreateInstances(
  $dataset: String!, $branch: String!, $instances: [InstanceInput!]!
) {
  createInstances(dataset: $dataset, branch: $branch, instances: $instances) { id }
}"""

UPDATE_INSTANCES = """mutation UpdateInstances(
  $dataset: String!, $branch: String!, $instances: [InstancePatch!]!
) {
  updateInstances(dataset: $dataset, branch: $branch, instances: $instances) { id }
}"""

DELETE_INSTANCES = """mutation DeleteInstances($dataset: String!, $branch: String!, $ids: [ID!]!) {
  deleteInstances(dataset: $dataset, branch: $branch, ids: $ids)
}"""

EXPORT_DATASET = (
    """mutation ExportDataset(
  $dataset: String!, $format: String!, $version: String, $query: String, $author: String!
) {
  exportDataset(dataset: $dataset, format: $format, version: $version, query: $query,
                author: $author) { ...JobFields }
}"""
    + _JOB
)
