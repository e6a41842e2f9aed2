import type { INestApplication } from '@nestjs/common';
import { Field, Int, ObjectType, Query, ResolveField, Resolver } from '@nestjs/graphql';
import {
  OAuth2Attribute,
  OAuth2ErrorKey,
  OAuth2Exception,
  OAuth2Module,
  OptionalOAuth2,
  RequiredScopes,
  SkipOAuth2,
} from '../../lib';
import { genericResource, resettable } from '../support/guard-e2e-helpers';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { RecordingLogger } from '../support/http-adapters';
import {
  errorAt,
  GRAPHQL_DRIVERS,
  type GraphQLAnswer,
  type GraphQLDriverName,
  graphqlModule,
  postGraphQL,
  startGraphQLApp,
} from './graphql-kit';
import { CODE_FIRST_RESOLVERS } from './graphql-code-first.resolvers';
import { describeGraphQLScenarios, expectRejection, REJECTION_HTTP, SCENARIO_TYPE_DEFS } from './graphql-scenarios';
import { SCHEMA_FIRST_RESOLVERS } from './graphql-schema-first.resolvers';

// GraphQL over HTTP, in one file so that jest loads the GraphQL packages once: the scenarios of issue 11
// on each driver, code-first and schema-first, then the module's global guard and filter.
describeGraphQLScenarios('code-first', { codeFirst: true }, CODE_FIRST_RESOLVERS);
describeGraphQLScenarios('schema-first', { typeDefs: SCENARIO_TYPE_DEFS }, SCHEMA_FIRST_RESOLVERS);

@ObjectType()
class Account {
  @Field(() => String, { nullable: true })
  clientId?: string;
}

/** No `@UseGuards()` anywhere: `OAuth2Module.forRoot({ global: true })` guards every resolver. */
@Resolver(() => Account)
class AccountResolver {
  @Query(() => Account, { nullable: true })
  account(@OAuth2Attribute('oauth.client_id') clientId: string): Account {
    return { clientId };
  }

  @Query(() => Int, { nullable: true })
  count(): number {
    return 3;
  }

  @Query(() => String, { nullable: true })
  @SkipOAuth2()
  publicInfo(): string {
    return 'public';
  }

  @Query(() => String, { nullable: true })
  @OptionalOAuth2()
  maybeClient(@OAuth2Attribute('oauth.client_id') clientId: string): string {
    return clientId ?? 'anonymous';
  }

  @Query(() => String, { nullable: true })
  refuse(): string {
    throw new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
  }

  @ResolveField(() => String, { nullable: true })
  @RequiredScopes('secret:read')
  secret(): string {
    return 'classified';
  }
}

/** No answer of a guarded operation is a server error: no 5xx, no INTERNAL_SERVER_ERROR code. */
function expectNoInternalError(answer: GraphQLAnswer): void {
  expect(answer.status).toBeLessThan(500);
  for (const error of answer.body.errors ?? []) {
    expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    expect(error.message).not.toMatch(/internal server error/i);
  }
}

describe.each(GRAPHQL_DRIVERS)('GraphQL with OAuth2Module.forRoot({ global: true }) on %s', (driver) => {
  const server = new ScriptedIntrospectionServer();
  const resetServer = resettable(server);
  const logger = new RecordingLogger();
  let app: INestApplication;

  beforeAll(async () => {
    const url = await server.start();
    app = await startGraphQLApp(
      driver,
      {
        imports: [
          OAuth2Module.forRoot({
            global: true,
            resources: [genericResource('as', url)],
            policy: { oauthResource: 'as' },
          }),
          graphqlModule(driver, { codeFirst: true }),
        ],
        providers: [AccountResolver],
      },
      logger,
    );
  });
  afterAll(async () => {
    await app?.close();
    await server.stop();
  });
  beforeEach(() => {
    resetServer();
    logger.lines.length = 0;
    server.tokens.set('good', { active: true, client_id: 'c1', scope: 'orders:read' });
    server.tokens.set('secret', { active: true, client_id: 'c2', scope: 'secret:read' });
  });

  it("logs no error for a client's rejection (a missing token is not a server fault), and never the token", async () => {
    await postGraphQL(app, '{ count account { clientId secret } }');
    await postGraphQL(app, '{ count }', 'unknown-token-value');
    await postGraphQL(app, '{ refuse }', 'good');
    expect(logger.lines.filter((line) => line.startsWith('error') || line.startsWith('fatal'))).toEqual([]);
    expect(logger.lines.join('\n')).not.toContain('unknown-token-value');
  });

  it('guards every query and field resolver, and answers the key, never an internal error', async () => {
    const missing = await postGraphQL(app, '{ count account { clientId secret } }');
    expectNoInternalError(missing);
    expect(missing.body.data).toEqual({ count: null, account: null });
    expectRejection(missing, 'count', 'OAUTH2_MISSING_HEADER', 401);
    expectRejection(missing, 'account', 'OAUTH2_MISSING_HEADER', 401);
    expect(missing.status).toBe(REJECTION_HTTP[driver].partialData);

    const inactive = await postGraphQL(app, '{ count }', 'unknown');
    expectNoInternalError(inactive);
    expectRejection(inactive, 'count', 'OAUTH2_INVALID_ACCESS_TOKEN', 401);

    const underScoped = await postGraphQL(app, '{ account { clientId secret } }', 'good');
    expectNoInternalError(underScoped);
    expect(underScoped.body.data).toEqual({ account: { clientId: 'c1', secret: null } });
    expectRejection(underScoped, 'account.secret', 'OAUTH2_INSUFFICIENT_SCOPE', 403);

    const allowed = await postGraphQL(app, '{ count account { clientId secret } }', 'secret');
    expect(allowed.body).toEqual({ data: { count: 3, account: { clientId: 'c2', secret: 'classified' } } });
    // Two guarded queries and a guarded field resolver: one introspection per token.
    expect(server.requestsTo('/introspect').map((received) => received.form.get('token'))).toEqual([
      'unknown',
      'good',
      'secret',
    ]);
  });

  it('@SkipOAuth2 and @OptionalOAuth2 under the global guard', async () => {
    expect((await postGraphQL(app, '{ publicInfo maybeClient }')).body).toEqual({
      data: { publicInfo: 'public', maybeClient: 'anonymous' },
    });
    expect((await postGraphQL(app, '{ maybeClient }', 'good')).body).toEqual({ data: { maybeClient: 'c1' } });
  });

  it("an OAuth2Exception thrown by a resolver's own code: the module's filter makes it the GraphQL error with the key", async () => {
    const answer = await postGraphQL(app, '{ refuse }', 'good');
    expectNoInternalError(answer);
    expect(answer.body.data).toEqual({ refuse: null });
    expectRejection(answer, 'refuse', 'OAUTH2_INVALID_ACCESS_TOKEN', 401);
    expect(answer.challenge).toMatch(/^Bearer realm="api", error="invalid_token"/);
  });
});

describe.each(['apollo-express', 'mercurius'] as GraphQLDriverName[])(
  'GraphQL without fieldResolverEnhancers on %s',
  (driver) => {
    const server = new ScriptedIntrospectionServer();
    let app: INestApplication;

    beforeAll(async () => {
      const url = await server.start();
      server.tokens.set('good', { active: true, client_id: 'c1', scope: 'orders:read' });
      app = await startGraphQLApp(driver, {
        imports: [
          OAuth2Module.forRoot({
            global: true,
            resources: [genericResource('as', url)],
            policy: { oauthResource: 'as' },
          }),
          graphqlModule(driver, { codeFirst: true }, false),
        ],
        providers: [AccountResolver],
      });
    });
    afterAll(async () => {
      await app?.close();
      await server.stop();
    });

    it('Nest runs no guard on a @ResolveField: its @RequiredScopes is not checked (queries still are)', async () => {
      const answer = await postGraphQL(app, '{ account { clientId secret } }', 'good');
      expect(answer.body).toEqual({ data: { account: { clientId: 'c1', secret: 'classified' } } });
      expect(errorAt(await postGraphQL(app, '{ account { clientId } }'), 'account')?.extensions?.code).toBe(
        'OAUTH2_MISSING_HEADER',
      );
    });
  },
);
