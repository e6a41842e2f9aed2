import type { INestApplication, Type } from '@nestjs/common';
import { OAuth2Module } from '../../lib';
import { SPEC_ERRORS, type SpecErrorKey } from '../support/e2e-kit';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import {
  errorAt,
  GRAPHQL_DRIVERS,
  type GraphQLAnswer,
  type GraphQLDriverName,
  graphqlModule,
  postGraphQL,
  type SchemaSource,
  startGraphQLApp,
} from './graphql-kit';

/**
 * The schema both the code-first resolvers and the schema-first ones serve. `me` and its field
 * resolvers sit in a resolver class with `@OAuth2Policy({ extractPayload: true })`; the others in classes
 * with `@UseGuards(OAuth2Guard)` and, for `adminStats`/`adminLite`, a class-level `@RequiredScopes('admin')`.
 */
export const SCENARIO_TYPE_DEFS = /* GraphQL */ `
  type Profile {
    clientId: String
    username: String
    subject: String
    token: String
    tenant: String
    secret: String
    open: String
  }

  type Query {
    me: Profile
    publicProfile: Profile
    count: Int
    countStrict: Int!
    report: String
    publicInfo: String
    maybeClient: String
    refuse: String
    adminStats: String
    adminLite: String
    hello: String
  }

  type Mutation {
    placeOrder(item: String!): String
  }
`;

/** The resolvers' answers, the same in both styles. */
export const ANSWERS = {
  count: 3,
  report: 'report',
  publicInfo: 'public',
  adminStats: 'stats',
  adminLite: 'lite',
  secret: 'classified',
  open: 'open',
};

const GOOD = {
  active: true,
  client_id: 'c1',
  sub: 'alice',
  username: 'alice@example.com',
  scope: 'orders:read',
  ext: { tenant: 'acme' },
};

/**
 * What each driver sends over HTTP for a rejection, as observed. Apollo (Nest's driver): status 200
 * whenever the body has a `data` member (Nest's plugin resets the status Apollo took from
 * `extensions.http.status`), and Apollo moves `extensions.http.headers` into the response's headers.
 * Mercurius: the status is the error's `statusCode` when `data` is null (a non-null field failed), 200
 * when the operation has data; the guard sets `WWW-Authenticate` on the reply.
 */
export const REJECTION_HTTP: Record<GraphQLDriverName, { partialData: number; nullData: (status: number) => number }> =
  {
    'apollo-express': { partialData: 200, nullData: () => 200 },
    'apollo-fastify': { partialData: 200, nullData: () => 200 },
    mercurius: { partialData: 200, nullData: (status) => status },
  };

/** The challenge of a rejection without an error code (no token), in the default realm. */
const BARE_CHALLENGE = 'Bearer realm="api"';

/** The error at `path` has the key as `code`, the status, the key's message; and no `http` reaches the client. */
export function expectRejection(answer: GraphQLAnswer, path: string, key: SpecErrorKey, status: number): void {
  const error = errorAt(answer, path);
  expect(error?.extensions).toEqual({ code: key, status });
  expect(error?.message).toBe(SPEC_ERRORS[key].message);
  expect(JSON.stringify(answer.body)).not.toContain('"http"');
}

/**
 * The GraphQL scenarios of issue 11 over HTTP, on every driver: token from the request's `Authorization`
 * header, the policy decorators on resolver classes, queries, mutations and field resolvers, the parameter
 * decorators, rejections as GraphQL errors with the key, one introspection per operation.
 */
export function describeGraphQLScenarios(style: string, source: SchemaSource, resolvers: Type[]): void {
  describe.each(GRAPHQL_DRIVERS)(`GraphQL ${style} on %s`, (driver) => {
    const server = new ScriptedIntrospectionServer();
    const resetServer = resettable(server);
    const http = REJECTION_HTTP[driver];
    let app: INestApplication;

    beforeAll(async () => {
      const url = await server.start();
      app = await startGraphQLApp(driver, {
        imports: [
          OAuth2Module.forRoot({ resources: [genericResource('as', url)], policy: { oauthResource: 'as' } }),
          graphqlModule(driver, source),
        ],
        providers: resolvers,
      });
    });
    afterAll(async () => {
      await app?.close();
      await server.stop();
    });
    beforeEach(() => {
      resetServer();
      server.tokens.set('good', GOOD);
      server.tokens.set('all', {
        active: true,
        client_id: 'c2',
        scope: 'orders:write reports:read secret:read admin admin:lite',
      });
      server.tokens.set('admin', { active: true, client_id: 'c3', scope: 'admin' });
      server.tokens.set('lite', { active: true, client_id: 'c4', scope: 'admin:lite' });
    });

    const introspections = () => server.requestsTo('/introspect');

    it("reads the token from the Authorization header of the operation's HTTP request", async () => {
      const answer = await postGraphQL(app, '{ count }', 'good');
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { count: ANSWERS.count } });
      expect(introspections().map((received) => received.form.get('token'))).toEqual(['good']);
    });

    describe('a rejection is a GraphQL error with the key and the status', () => {
      it('no Authorization header: OAUTH2_MISSING_HEADER (401)', async () => {
        const answer = await postGraphQL(app, '{ count }');
        expect(answer.body.data).toEqual({ count: null });
        expectRejection(answer, 'count', 'OAUTH2_MISSING_HEADER', 401);
        expect(answer.status).toBe(http.partialData);
        expect(answer.challenge).toBe(BARE_CHALLENGE);
        expect(introspections()).toHaveLength(0);
      });

      it('an inactive token: OAUTH2_INVALID_ACCESS_TOKEN (401)', async () => {
        const answer = await postGraphQL(app, '{ count }', 'unknown');
        expectRejection(answer, 'count', 'OAUTH2_INVALID_ACCESS_TOKEN', 401);
        expect(answer.status).toBe(http.partialData);
        expect(answer.challenge).toMatch(/^Bearer realm="api", error="invalid_token"/);
      });

      it('a missing scope: OAUTH2_INSUFFICIENT_SCOPE (403), the challenge names the scope', async () => {
        const answer = await postGraphQL(app, '{ report }', 'good');
        expectRejection(answer, 'report', 'OAUTH2_INSUFFICIENT_SCOPE', 403);
        expect(answer.status).toBe(http.partialData);
        expect(answer.challenge).toBe('Bearer realm="api", error="insufficient_scope", scope="reports:read"');
      });

      it('on a non-null field (the operation has data: null)', async () => {
        const answer = await postGraphQL(app, '{ countStrict }');
        expect(answer.body.data).toBeNull();
        expectRejection(answer, 'countStrict', 'OAUTH2_MISSING_HEADER', 401);
        expect(answer.status).toBe(http.nullData(401));
        expect(answer.challenge).toBe(BARE_CHALLENGE);
      });

      it("an OAuth2Exception thrown by the resolver's own code (through the module's filter)", async () => {
        const answer = await postGraphQL(app, '{ refuse }', 'good');
        expect(answer.body.data).toEqual({ refuse: null });
        expectRejection(answer, 'refuse', 'OAUTH2_INSUFFICIENT_SCOPE', 403);
        expect(answer.status).toBe(http.partialData);
      });
    });

    describe('@RequiredScopes', () => {
      it('on the resolver class: every query of the class', async () => {
        expect((await postGraphQL(app, '{ adminStats }', 'admin')).body).toEqual({
          data: { adminStats: ANSWERS.adminStats },
        });
        expectRejection(
          await postGraphQL(app, '{ adminStats }', 'lite'),
          'adminStats',
          'OAUTH2_INSUFFICIENT_SCOPE',
          403,
        );
      });

      it("on a query: replaces the class's scopes", async () => {
        expect((await postGraphQL(app, '{ adminLite }', 'lite')).body).toEqual({
          data: { adminLite: ANSWERS.adminLite },
        });
        expectRejection(
          await postGraphQL(app, '{ adminLite }', 'admin'),
          'adminLite',
          'OAUTH2_INSUFFICIENT_SCOPE',
          403,
        );
      });

      it('on a mutation', async () => {
        const mutation = 'mutation Place($item: String!) { placeOrder(item: $item) }';
        const allowed = await postGraphQL(app, mutation, 'all', { item: 'book' });
        expect(allowed.body).toEqual({ data: { placeOrder: 'c2:book' } });
        const refused = await postGraphQL(app, mutation, 'good', { item: 'book' });
        expect(refused.body.data).toEqual({ placeOrder: null });
        expectRejection(refused, 'placeOrder', 'OAUTH2_INSUFFICIENT_SCOPE', 403);
        expect(refused.challenge).toContain('scope="orders:write"');
      });

      it('on a field resolver (fieldResolverEnhancers: guards): only that field fails', async () => {
        const refused = await postGraphQL(app, '{ me { clientId secret } }', 'good');
        expect(refused.body.data).toEqual({ me: { clientId: 'c1', secret: null } });
        expectRejection(refused, 'me.secret', 'OAUTH2_INSUFFICIENT_SCOPE', 403);
        const allowed = await postGraphQL(app, '{ me { clientId secret } }', 'all');
        expect(allowed.body).toEqual({ data: { me: { clientId: 'c2', secret: ANSWERS.secret } } });
      });
    });

    describe('@SkipOAuth2', () => {
      it('on a query: no token needed, a bad one is not even read', async () => {
        expect((await postGraphQL(app, '{ publicInfo }')).body).toEqual({ data: { publicInfo: ANSWERS.publicInfo } });
        expect((await postGraphQL(app, '{ publicInfo }', 'unknown')).body).toEqual({
          data: { publicInfo: ANSWERS.publicInfo },
        });
        expect(introspections()).toHaveLength(0);
      });

      it('on a resolver class: every query, with no attributes', async () => {
        expect((await postGraphQL(app, '{ hello }', 'good')).body).toEqual({ data: { hello: 'hello:anonymous' } });
        expect(introspections()).toHaveLength(0);
      });

      it('on a field resolver, while its sibling field resolver is guarded', async () => {
        const answer = await postGraphQL(app, '{ publicProfile { open secret } }');
        expect(answer.body.data).toEqual({ publicProfile: { open: ANSWERS.open, secret: null } });
        expectRejection(answer, 'publicProfile.secret', 'OAUTH2_MISSING_HEADER', 401);
        expect(introspections()).toHaveLength(0);
      });
    });

    describe('@OptionalOAuth2', () => {
      it('no token: runs anonymously, with no attributes and no introspection', async () => {
        expect((await postGraphQL(app, '{ maybeClient }')).body).toEqual({ data: { maybeClient: 'anonymous' } });
        expect(introspections()).toHaveLength(0);
      });

      it('a valid token: checked, and its attributes are there', async () => {
        expect((await postGraphQL(app, '{ maybeClient }', 'good')).body).toEqual({ data: { maybeClient: 'c1' } });
      });

      it('an invalid token is rejected, not downgraded to anonymous', async () => {
        const answer = await postGraphQL(app, '{ maybeClient }', 'unknown');
        expectRejection(answer, 'maybeClient', 'OAUTH2_INVALID_ACCESS_TOKEN', 401);
      });
    });

    it('the parameter decorators in a query and in a field resolver (extractPayload on the class)', async () => {
      const answer = await postGraphQL(app, '{ me { clientId username subject token tenant } }', 'good');
      expect(answer.body).toEqual({
        data: {
          me: { clientId: 'c1', username: 'alice@example.com', subject: 'alice', token: 'good', tenant: 'acme' },
        },
      });
    });

    it('one operation with several guarded queries and field resolvers introspects once', async () => {
      const answer = await postGraphQL(
        app,
        '{ me { clientId secret tenant } count report adminLite second: count }',
        'all',
      );
      expect(answer.body).toEqual({
        data: {
          me: { clientId: 'c2', secret: ANSWERS.secret, tenant: null },
          count: ANSWERS.count,
          report: ANSWERS.report,
          adminLite: ANSWERS.adminLite,
          second: ANSWERS.count,
        },
      });
      expect(introspections()).toHaveLength(1);
    });
  });
}
