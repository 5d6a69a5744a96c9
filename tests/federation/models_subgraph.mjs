// The "models team's" subgraph, written for tests/federation/test_gateway.py: model runs, the
// trainingdb commit each was trained on, and the predictions each made (trainingdb instances,
// named by id and the version they were imported at). It extends trainingdb's File with
// `predictions`.
//
//   node models_subgraph.mjs PORT DATA.json
//
// DATA.json: {"runs": [{"id": "run-1", "name": "...", "trainedOn": "<commit id>",
//   "predictions": [{"instance": "<instance id>", "file": "<file id>", "version": "<tag>"}]}]}
// Prints "models subgraph ready at http://127.0.0.1:PORT/" once it listens.

import { readFileSync } from 'node:fs';

import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

const [port, dataPath] = process.argv.slice(2);
if (!port || !dataPath) {
  console.error('usage: node models_subgraph.mjs PORT DATA.json');
  process.exit(2);
}
const { runs } = JSON.parse(readFileSync(dataPath, 'utf8'));
const byId = new Map(runs.map((run) => [run.id, run]));

const typeDefs = parse(`
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])

  "A training run of a model, owned here; trainingdb's instances name it by id (Instance.modelRun)."
  type ModelRun @key(fields: "id") {
    id: ID!
    name: String!
    "The trainingdb commit the run was trained on (null where the caller may not read it)."
    trainedOn: Commit
    "Its predictions: trainingdb instances (null where the caller may not read them)."
    predictions: [Instance]!
  }

  "A prediction of one run on one file."
  type Prediction {
    modelRun: ModelRun!
    instance: Instance
  }

  type Commit @key(fields: "id", resolvable: false) {
    id: ID!
  }

  type Instance @key(fields: "id version", resolvable: false) {
    id: ID!
    version: String!
  }

  "trainingdb's File, extended with the predictions made on it."
  type File @key(fields: "id") {
    id: ID!
    predictions: [Prediction!]!
  }

  type Query {
    modelRuns: [ModelRun!]!
    modelRun(id: ID!): ModelRun
  }
`);

const instanceOf = (prediction) => ({ id: prediction.instance, version: prediction.version });

const resolvers = {
  Query: {
    modelRuns: () => runs,
    modelRun: (_, { id }) => byId.get(id) ?? null,
  },
  ModelRun: {
    __resolveReference: ({ id }) => byId.get(id) ?? null,
    trainedOn: (run) => ({ id: run.trainedOn }),
    predictions: (run) => run.predictions.map(instanceOf),
  },
  File: {
    __resolveReference: ({ id }) => ({ id }),
    predictions: ({ id }) =>
      runs.flatMap((run) =>
        run.predictions
          .filter((p) => p.file === id)
          .map((p) => ({ modelRun: run, instance: instanceOf(p) })),
      ),
  },
};

const server = new ApolloServer({
  schema: buildSubgraphSchema({ typeDefs, resolvers }),
  plugins: [ApolloServerPluginInlineTraceDisabled()],
});
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port: Number(port) },
});
console.log(`models subgraph ready at ${url}`);
