import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OAuth2Module } from '../../lib';
import { refusedUrl } from '../support/e2e-kit';
import { ADAPTERS } from '../support/http-adapters';
import { McpOrdersController } from './mcp-orders.controller';

/**
 * The MCP authorization flow with real components: node-oidc-provider (the jest global setup's, with
 * resource indicators) issues audience-bound opaque tokens; the official MCP TypeScript SDK is the client;
 * the MCP server is the SDK's Streamable HTTP transport on a Nest route behind OAuth2Guard, whose resource
 * finds the provider's introspection endpoint by discovery.
 */

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run through jest, whose global setup starts the authorization server`);
  }
  return value;
}

const ISSUER = env('OIDC_ISSUER');
const TOKEN_CLIENT = { clientId: env('OIDC_TOKEN_CLIENT_ID'), clientSecret: env('OIDC_TOKEN_CLIENT_SECRET') };
/** Every bounded wait of these tests. */
const TIMEOUT_MS = 5000;

/** A token for `resource` from the provider (client_credentials, RFC 8707 `resource=`). */
async function tokenFor(resource: string): Promise<string> {
  const answer = await fetch(env('OIDC_TOKEN_URL'), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${Buffer.from(`${TOKEN_CLIENT.clientId}:${TOKEN_CLIENT.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders:read', resource }).toString(),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { access_token: string }).access_token;
}

describe.each(ADAPTERS)('an MCP server behind OAuth2Guard, with the MCP SDK client, on %s', (adapter) => {
  let app: INestApplication;
  let serverUrl: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    // The resource identifier is the URL clients connect to, so the port is chosen before the start.
    const origin = await refusedUrl();
    serverUrl = `${origin}/mcp`;
    const moduleRef = await Test.createTestingModule({
      imports: [
        OAuth2Module.forRoot({
          resources: [
            {
              name: 'oidc',
              type: 'generic',
              issuer: ISSUER,
              clientId: env('OIDC_INTROSPECTION_CLIENT_ID'),
              clientSecret: env('OIDC_INTROSPECTION_CLIENT_SECRET'),
            },
          ],
          caches: [{ name: 'local', timeToLiveSeconds: 60 }],
          policy: { oauthResource: 'oidc', oauthCacheResource: 'local', issuers: [ISSUER] },
          protectedResource: { resource: serverUrl, authorizationServers: [ISSUER], resourceName: 'Orders MCP' },
        }),
      ],
      controllers: [McpOrdersController],
    }).compile();
    app =
      adapter === 'express'
        ? moduleRef.createNestApplication(new ExpressAdapter(), { logger: false })
        : moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.listen(Number(new URL(origin).port), '127.0.0.1');
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await app.close();
  });

  const connect = async (transport: StreamableHTTPClientTransport): Promise<Client> => {
    const client = new Client({ name: 'test-client', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport, { timeout: TIMEOUT_MS });
    return client;
  };

  it("without a token: 401, whose resource_metadata the SDK's discovery follows to our document and to the provider's metadata", async () => {
    const answer = await fetch(serverUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    expect(answer.status).toBe(401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(answer);
    expect(resourceMetadataUrl?.href).toBe(`${new URL(serverUrl).origin}/.well-known/oauth-protected-resource/mcp`);

    const resourceMetadata = await discoverOAuthProtectedResourceMetadata(serverUrl, { resourceMetadataUrl });
    expect(resourceMetadata).toMatchObject({
      resource: serverUrl,
      authorization_servers: [ISSUER],
      scopes_supported: ['orders:read'],
      bearer_methods_supported: ['header'],
      resource_name: 'Orders MCP',
    });
    const serverMetadata = await discoverAuthorizationServerMetadata(resourceMetadata.authorization_servers![0]);
    expect(serverMetadata).toMatchObject({ issuer: ISSUER, token_endpoint: env('OIDC_TOKEN_URL') });
  });

  it('the SDK client without credentials cannot connect', async () => {
    await expect(connect(new StreamableHTTPClientTransport(new URL(serverUrl)))).rejects.toThrow();
  });

  it("the SDK client with client credentials discovers, gets a token for this resource, and lists the server's tools", async () => {
    const authProvider = new ClientCredentialsProvider({
      ...TOKEN_CLIENT,
      scope: 'orders:read',
      expectedIssuer: ISSUER,
    });
    const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider });
    // The first request answers 401: the SDK runs its auth() (discovery, token request with resource=) and retries.
    const client = await connect(transport);
    const { tools } = await client.listTools(undefined, { timeout: TIMEOUT_MS });
    expect(tools.map((tool) => tool.name)).toEqual(['list-orders']);
    // Accepted under the default audiences ([protectedResource.resource]): the token is bound to this server.
    expect(authProvider.tokens()?.access_token).toBeDefined();
  });

  it('a token issued for this resource lists the tools; one issued for another resource gets 401', async () => {
    const ours = await tokenFor(serverUrl);
    const client = await connect(
      new StreamableHTTPClientTransport(new URL(serverUrl), {
        requestInit: { headers: { Authorization: `Bearer ${ours}` } },
      }),
    );
    expect((await client.listTools(undefined, { timeout: TIMEOUT_MS })).tools).toHaveLength(1);

    const theirs = await tokenFor('http://127.0.0.1:1/other-mcp');
    const refused = await fetch(serverUrl, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${theirs}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    await expect(
      connect(
        new StreamableHTTPClientTransport(new URL(serverUrl), {
          requestInit: { headers: { Authorization: `Bearer ${theirs}` } },
        }),
      ),
    ).rejects.toThrow();
  });
});
