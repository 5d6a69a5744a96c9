// An Apollo Federation gateway over trainingdb and other subgraphs, as
// tests/federation/test_gateway.py runs it (and the README's "Federation" example):
//
//   GATEWAY_KEY=tdb_... node gateway.mjs PORT NAME=URL [NAME=URL ...]
//   e.g. node gateway.mjs 4000 trainingdb=http://127.0.0.1:8000/graphql models=http://127.0.0.1:4001/
//
// At start-up it composes the supergraph from each subgraph's `_service { sdl }`, asked with the
// gateway's own key (GATEWAY_KEY: any valid trainingdb key; a team key with no grant will do).
// Each query's `Authorization` header is forwarded to the subgraphs, so trainingdb answers with
// the caller's rights. Prints "gateway ready at http://127.0.0.1:PORT/" once it listens.

import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

// No usage metrics to Apollo (and no cloud-metadata probes to find where the gateway runs).
process.env.APOLLO_TELEMETRY_DISABLED = '1';

const [port, ...pairs] = process.argv.slice(2);
if (!port || pairs.length === 0 || pairs.some((pair) => !pair.includes('='))) {
  console.error('usage: GATEWAY_KEY=... node gateway.mjs PORT NAME=URL [NAME=URL ...]');
  process.exit(2);
}
const subgraphs = pairs.map((pair) => {
  const at = pair.indexOf('=');
  return { name: pair.slice(0, at), url: pair.slice(at + 1) };
});
const introspectionHeaders = process.env.GATEWAY_KEY
  ? { authorization: `Bearer ${process.env.GATEWAY_KEY}` }
  : {};

/** Sends each query's caller credential on to the subgraphs. */
class ForwardAuthorization extends RemoteGraphQLDataSource {
  willSendRequest({ kind, request, context }) {
    // Only queries made for a caller: composition keeps the gateway's own key.
    if (kind === 'incoming operation' && context.authorization) {
      request.http.headers.set('authorization', context.authorization);
    }
  }
}

// GraphiQL at the gateway's URL for a browser (the same pinned CDN build Strawberry serves at
// trainingdb's /graphql), instead of Apollo's default landing page. Add the Authorization header
// in its headers tab: it travels on to trainingdb like any client's.
const GRAPHIQL = `<!doctype html>
<html>
  <head>
    <title>trainingdb supergraph</title>
    <link rel="stylesheet" href="https://unpkg.com/graphiql@3.8.3/graphiql.min.css" />
  </head>
  <body style="margin: 0">
    <div id="graphiql" style="height: 100vh"></div>
    <script crossorigin src="https://unpkg.com/react@18.2.0/umd/react.production.min.js"></script>
    <script crossorigin src="https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js"></script>
    <script crossorigin src="https://unpkg.com/graphiql@3.8.3/graphiql.min.js"></script>
    <script>
      const fetcher = GraphiQL.createFetcher({ url: window.location.href });
      ReactDOM.createRoot(document.getElementById('graphiql')).render(
        React.createElement(GraphiQL, { fetcher, defaultEditorToolsVisibility: 'headers' }),
      );
    </script>
  </body>
</html>`;
const graphiqlLandingPage = {
  async serverWillStart() {
    return { async renderLandingPage() { return { html: GRAPHIQL }; } };
  },
};

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({ subgraphs, introspectionHeaders }),
  buildService: ({ url }) => new ForwardAuthorization({ url }),
});
const server = new ApolloServer({
  gateway,
  includeStacktraceInErrorResponses: false,
  plugins: [graphiqlLandingPage],
});
try {
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: Number(port) },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  console.log(`gateway ready at ${url}`);
} catch (error) {
  console.error(`gateway failed to start: ${error.message}`);
  process.exit(1);
}
