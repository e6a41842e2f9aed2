import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import request from 'supertest';
import { type AdapterName, startApp } from '../support/http-adapters';

/** The GraphQL servers under test: Nest's Apollo driver on both platforms, and Nest's Mercurius driver. */
export const GRAPHQL_DRIVERS = ['apollo-express', 'apollo-fastify', 'mercurius'] as const;
export type GraphQLDriverName = (typeof GRAPHQL_DRIVERS)[number];

/** The HTTP platform a driver runs on. */
export function platformOf(driver: GraphQLDriverName): AdapterName {
  return driver === 'apollo-express' ? 'express' : 'fastify';
}

/** How the schema is given: code-first (built in memory from the resolvers) or schema-first (SDL). */
export type SchemaSource = { codeFirst: true } | { typeDefs: string };

/**
 * `GraphQLModule.forRoot()` for a driver. Guards run on `@ResolveField()` methods only with
 * `fieldResolverEnhancers: ['guards']`, which is on unless `fieldGuards` is false.
 */
export function graphqlModule(driver: GraphQLDriverName, source: SchemaSource, fieldGuards = true): DynamicModule {
  const common = {
    ...('typeDefs' in source ? { typeDefs: source.typeDefs } : { autoSchemaFile: true as const }),
    ...(fieldGuards && { fieldResolverEnhancers: ['guards' as const] }),
  };
  // Mercurius's default query cache loads quick-lru, an ES module, by import(): jest's CommonJS leg
  // (Nest 11) cannot run it. The cache keeps parsed documents only; nothing here depends on it.
  return driver === 'mercurius'
    ? GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, cache: false, ...common })
    : GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, ...common });
}

/** A real application of a driver, listening on 127.0.0.1. */
export function startGraphQLApp(
  driver: GraphQLDriverName,
  metadata: ModuleMetadata,
  logger: LoggerService | false = false,
): Promise<INestApplication> {
  return startApp(platformOf(driver), metadata, logger);
}

/** A GraphQL error as the client reads it. */
export interface ClientGraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

/** What a GraphQL POST answered: the HTTP status, the `WWW-Authenticate` header, the JSON body. */
export interface GraphQLAnswer {
  status: number;
  challenge: string | undefined;
  body: { data?: Record<string, unknown> | null; errors?: ClientGraphQLError[] };
}

/** POSTs one GraphQL operation to `/graphql`, with `Authorization: Bearer <token>` when a token is given. */
export async function postGraphQL(
  app: INestApplication,
  query: string,
  token?: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLAnswer> {
  let call = request(app.getHttpServer()).post('/graphql').send({ query, variables });
  if (token !== undefined) {
    call = call.set('Authorization', `Bearer ${token}`);
  }
  const response = await call;
  const challenge = response.headers['www-authenticate'] as string | undefined;
  return { status: response.status, challenge, body: response.body as GraphQLAnswer['body'] };
}

/** The error of a path (`'count'`, `'me.secret'`), or undefined. */
export function errorAt(answer: GraphQLAnswer, path: string): ClientGraphQLError | undefined {
  return answer.body.errors?.find((error) => (error.path ?? []).join('.') === path);
}
