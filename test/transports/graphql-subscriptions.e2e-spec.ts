import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type INestApplication, UseGuards } from '@nestjs/common';
import { GraphQLModule, Query, Resolver, Subscription } from '@nestjs/graphql';
import { createClient, type Client } from 'graphql-ws';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { OAuth2Attribute, OAuth2ConnectionAuthenticator, OAuth2Guard, OAuth2Module, RequiredScopes } from '../../lib';
import { genericResource, nowSeconds, resettable } from '../support/guard-e2e-helpers';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { type ClientGraphQLError, type GraphQLDriverName, startGraphQLApp } from './graphql-kit';

/** The longest a test waits for one thing over the WebSocket (bounded, well under jest's timeout). */
const WAIT_MS = 4000;
const TICK_MS = 100;
/** A subscription's events stop after this many, so that no generator outlives its test. */
const MAX_TICKS = 60;

async function* ticks(clientId: string): AsyncGenerator<{ ticks: string; adminTicks: string }> {
  for (let tick = 1; tick <= MAX_TICKS; tick += 1) {
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    const value = `${clientId}:${tick}`;
    yield { ticks: value, adminTicks: value };
  }
}

@Resolver()
@UseGuards(OAuth2Guard)
class TicksResolver {
  @Query(() => String)
  ping(): string {
    return 'pong';
  }

  @Subscription(() => String)
  ticks(@OAuth2Attribute('oauth.client_id') clientId: string): AsyncGenerator<unknown> {
    return ticks(clientId);
  }

  @Subscription(() => String)
  @RequiredScopes('ticks:admin')
  adminTicks(@OAuth2Attribute('oauth.client_id') clientId: string): AsyncGenerator<unknown> {
    return ticks(clientId);
  }
}

/** How a graphql-ws connection ended, as the client's `closed` event tells it. */
interface Closed {
  code: number;
  reason: string;
  atMs: number;
}

/** What one subscription saw: its events, then its end (complete, GraphQL errors, or the socket's close). */
interface Observed {
  events: string[];
  errors?: ClientGraphQLError[];
  closed?: Closed;
  completed: boolean;
}

/** A graphql-ws client of the app, recording its `closed` event, never retrying. */
class WsClient {
  readonly client: Client;
  closed?: Closed;
  private readonly startedAt = Date.now();
  private readonly closedWaiters: (() => void)[] = [];

  constructor(url: string, authorization: string | undefined, lazy: boolean, onNonLazyError?: (e: unknown) => void) {
    this.client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: authorization === undefined ? {} : { Authorization: authorization },
      lazy,
      onNonLazyError,
      retryAttempts: 0,
      on: {
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          this.closed = { code, reason: String(reason), atMs: Date.now() - this.startedAt };
          this.closedWaiters.splice(0).forEach((resolve) => resolve());
        },
      },
    });
  }

  /** Resolves when the socket closed, or after `ms`. */
  whenClosed(ms = WAIT_MS): Promise<Closed | undefined> {
    if (this.closed) {
      return Promise.resolve(this.closed);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.closed), ms);
      this.closedWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.closed);
      });
    });
  }

  /**
   * Subscribes, and resolves once `events` events came, the subscription ended, or `ms` passed
   * (whichever first); then unsubscribes.
   */
  observe(query: string, events: number, ms = WAIT_MS): Promise<Observed> {
    return new Promise((resolve) => {
      const observed: Observed = { events: [], completed: false };
      let unsubscribe = (): void => undefined;
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        observed.closed = this.closed;
        resolve(observed);
      };
      const timer = setTimeout(done, ms);
      unsubscribe = this.client.subscribe<Record<string, string>>(
        { query },
        {
          next: (result) => {
            if (result.errors) {
              observed.errors = result.errors as ClientGraphQLError[];
            }
            for (const value of Object.values(result.data ?? {})) {
              observed.events.push(value);
            }
            if (observed.events.length >= events) {
              done();
            }
          },
          error: (error) => {
            if (Array.isArray(error)) {
              observed.errors = error as ClientGraphQLError[];
            }
            // A CloseEvent: the closed handler has recorded it.
            setImmediate(done);
          },
          complete: () => {
            observed.completed = true;
            done();
          },
        },
      );
    });
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
  }
}

describe.each(['apollo-express', 'apollo-fastify'] as GraphQLDriverName[])(
  'GraphQL subscriptions over graphql-ws (Apollo driver) on %s',
  (driver) => {
    const server = new ScriptedIntrospectionServer();
    const resetServer = resettable(server);
    const clients: WsClient[] = [];
    let app: INestApplication;
    let wsUrl: string;

    beforeAll(async () => {
      const url = await server.start();
      app = await startGraphQLApp(driver, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            // The expiry test waits for exp + tolerance: no tolerance keeps it short.
            policy: { oauthResource: 'as', clockToleranceSeconds: 0 },
          }),
          GraphQLModule.forRootAsync<ApolloDriverConfig>({
            driver: ApolloDriver,
            inject: [OAuth2ConnectionAuthenticator],
            useFactory: (auth: OAuth2ConnectionAuthenticator) => ({
              autoSchemaFile: true,
              subscriptions: { 'graphql-ws': { onConnect: auth.graphqlWsOnConnect() } },
            }),
          }),
        ],
        providers: [TicksResolver],
      });
      const { port } = app.getHttpServer().address() as AddressInfo;
      wsUrl = `ws://127.0.0.1:${port}/graphql`;
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.dispose()));
    });
    afterAll(async () => {
      await app?.close();
      await server.stop();
    });
    beforeEach(() => {
      resetServer();
      server.tokens.set('good', { active: true, client_id: 'c1', scope: 'ticks:read' });
      server.tokens.set('admin', { active: true, client_id: 'c2', scope: 'ticks:read ticks:admin' });
    });

    function connect(authorization: string | undefined, lazy = true, onNonLazyError?: (e: unknown) => void) {
      const client = new WsClient(wsUrl, authorization, lazy, onNonLazyError);
      clients.push(client);
      return client;
    }

    it('a valid token in connectionParams: subscribes to a guarded subscription and receives its events', async () => {
      const observed = await connect('Bearer good').observe('subscription { ticks }', 3);
      expect(observed.errors).toBeUndefined();
      expect(observed.events).toEqual(['c1:1', 'c1:2', 'c1:3']);
      expect(observed.closed).toBeUndefined();
      // The connection's check (onConnect), then the guard's on the subscribe (its own context).
      expect(server.requestsTo('/introspect').map((received) => received.form.get('token'))).toEqual(['good', 'good']);
    });

    it.each([
      ['no Authorization', undefined, 'OAUTH2_MISSING_HEADER', 0],
      ['an inactive token', 'Bearer unknown', 'OAUTH2_INVALID_ACCESS_TOKEN', 1],
      ['a malformed token', 'Bearer a b', 'OAUTH2_INVALID_ACCESS_TOKEN', 0],
    ])('%s: refused at connection, closed with 4401 and the key', async (_case, authorization, key, introspected) => {
      let nonLazyError: (error: unknown) => void = () => undefined;
      const reported = new Promise<unknown>((resolve) => {
        nonLazyError = resolve;
        setTimeout(() => resolve(undefined), WAIT_MS).unref();
      });
      const client = connect(authorization, false, (error) => nonLazyError(error));
      expect(await client.whenClosed()).toMatchObject({ code: 4401, reason: key });
      // What the client's onNonLazyError gets: the same close event.
      expect(await reported).toMatchObject({ code: 4401, reason: key });
      // Only a well-formed token reaches the authorization server.
      expect(server.requestsTo('/introspect')).toHaveLength(introspected);
    });

    it('a token that expires: the connection is closed (4401) when it does, and its subscription stops', async () => {
      server.tokens.set('short', { active: true, client_id: 'c3', exp: nowSeconds() + 2 });
      const client = connect('Bearer short');
      const observed = await client.observe('subscription { ticks }', MAX_TICKS, 3500);
      expect(observed.closed).toMatchObject({ code: 4401, reason: 'OAUTH2_INVALID_ACCESS_TOKEN' });
      // exp is a whole second: the close comes 1 to 2 s after the connection (clock tolerance 0).
      expect(observed.closed!.atMs).toBeGreaterThan(900);
      expect(observed.closed!.atMs).toBeLessThan(3000);
      expect(observed.events.length).toBeGreaterThan(0);
      expect(observed.events.length).toBeLessThan(MAX_TICKS);
      expect(observed.completed).toBe(false);
    });

    it('@RequiredScopes on a @Subscription: the guard reads the token from connectionParams', async () => {
      const refused = await connect('Bearer good').observe('subscription { adminTicks }', 1);
      expect(refused.events).toEqual([]);
      expect(refused.errors).toHaveLength(1);
      expect(refused.errors![0].extensions).toEqual({ code: 'OAUTH2_INSUFFICIENT_SCOPE', status: 403 });
      expect(refused.errors![0].message).toBe(
        'One of the required scopes was missing while introspecting access token',
      );
      // The connection stays open: only the subscription was refused.
      expect(refused.closed).toBeUndefined();

      const allowed = await connect('Bearer admin').observe('subscription { adminTicks }', 2);
      expect(allowed.errors).toBeUndefined();
      expect(allowed.events).toEqual(['c2:1', 'c2:2']);
    });
  },
);
