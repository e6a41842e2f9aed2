import type { INestApplication } from '@nestjs/common';
import { OAuth2Module, OAuth2ResourceRegistry } from '../../lib';
import { refusedUrl } from '../support/e2e-kit';
import { genericResource } from '../support/guard-e2e-helpers';
import { startApp } from '../support/http-adapters';
import { type ScriptedAnswer, ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 15, item 1: what `OAuth2Resource.checkHealth()` counts as up and down, against a real server
 * on 127.0.0.1, for the answers the indicator's end-to-end test does not script.
 */
describe('OAuth2Resource.checkHealth', () => {
  const server = new ScriptedIntrospectionServer();
  let answer: ScriptedAnswer;
  let app: INestApplication;
  let registry: OAuth2ResourceRegistry;

  beforeAll(async () => {
    const url = await server.start();
    server.script = () => answer;
    const refused = await refusedUrl();
    app = await startApp('express', {
      imports: [
        OAuth2Module.forRoot({
          resources: [
            genericResource('as', url, { circuitBreaker: false }),
            {
              name: 'am-v1',
              type: 'gravitee-am',
              serverURL: url,
              securityDomain: 'd',
              clientId: 'c',
              clientSecret: 's',
              version: 'V1_X',
            },
            { name: 'discovered', type: 'generic', issuer: refused, clientId: 'api', clientSecret: 'api-secret' },
          ],
          policy: { oauthResource: 'as' },
        }),
      ],
    });
    registry = app.get(OAuth2ResourceRegistry);
  });

  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  it.each<[string, boolean, ScriptedAnswer, string | undefined]>([
    ['an RFC 7662 answer', true, { status: 200, body: { active: false } }, undefined],
    ['a 400', true, { status: 400, body: { error: 'invalid_request' } }, undefined],
    [
      'a 200 that is not JSON',
      false,
      { status: 200, body: 'hello' },
      'answered 200 without a valid introspection answer',
    ],
    [
      'a 200 without `active`',
      false,
      { status: 200, body: { ok: true } },
      'answered 200 without a valid introspection answer',
    ],
    ['a redirect', false, { status: 302, body: {}, headers: { Location: '/elsewhere' } }, 'answered HTTP 302'],
    ['a 502', false, { status: 502, body: {} }, 'answered HTTP 502'],
  ])('%s: up %s', async (_label, up, scripted, reason) => {
    answer = scripted;
    const health = await registry.get('as').checkHealth();
    expect(health).toEqual({
      up,
      latencyMs: expect.any(Number),
      circuit: 'none',
      httpStatus: scripted.status,
      ...(reason !== undefined && { reason }),
    });
  });

  it("counts Gravitee AM 1.x's 400 invalid_token for the throwaway token as up", async () => {
    answer = { status: 400, body: { error: 'invalid_token' } };
    expect(await registry.get('am-v1').checkHealth()).toMatchObject({ up: true, httpStatus: 400, circuit: 'closed' });
  });

  it('counts a resource whose issuer metadata could not be read as down, without a request', async () => {
    const before = server.requests.length;
    expect(await registry.get('discovered').checkHealth()).toMatchObject({
      up: false,
      reason: expect.stringContaining('no introspection endpoint yet'),
    });
    expect(server.requests.length).toBe(before);
  });
});
