import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import { createHash } from 'node:crypto';
import request from 'supertest';
import {
  OAuth2ConfigurationError,
  type OAuth2Decision,
  OAuth2ErrorKey,
  OAuth2Guard,
  OAuth2Module,
  type OAuth2ModuleOptions,
  OptionalOAuth2,
  RequiredScopes,
  SkipOAuth2,
} from '../../lib';
import { genericResource, nowSeconds, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS, RecordingLogger, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 15, item 6: the `onDecision` audit hook is called after each decision of the guard, allowed
 * or rejected, with the key, the resource, the client and the token's fingerprint, never the token;
 * a hook that throws or rejects changes no decision and is logged once, without the token.
 */

@Controller('a')
@UseGuards(OAuth2Guard)
class AuditedController {
  @Get()
  read() {
    return { ok: true };
  }

  @Get('admin')
  @RequiredScopes('admin')
  admin() {
    return { ok: true };
  }

  @Get('open')
  @SkipOAuth2()
  open() {
    return { ok: true };
  }

  @Get('maybe')
  @OptionalOAuth2()
  maybe() {
    return { ok: true };
  }
}

const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 8);
/** A decision without its execution context, for comparisons and for a scan of its text. */
const withoutContext = ({ context: _context, ...rest }: OAuth2Decision) => rest;

describe.each(ADAPTERS)('the onDecision audit hook, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let url: string;
  const apps: INestApplication[] = [];
  const active = `${adapter}-audited-active-token`;
  const inactive = `${adapter}-audited-inactive-token`;

  const options = (onDecision: OAuth2ModuleOptions['onDecision']): OAuth2ModuleOptions => ({
    resources: [genericResource('as', url)],
    caches: [{ name: 'local' }],
    policy: { oauthResource: 'as', oauthCacheResource: 'local' },
    onDecision,
  });

  beforeAll(async () => {
    url = await server.start();
    server.tokens.set(active, { active: true, scope: 'read', client_id: 'client-a', exp: nowSeconds() + 600 });
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await server.stop();
  });

  describe('with a hook that records', () => {
    const decisions: OAuth2Decision[] = [];
    let app: INestApplication;

    beforeAll(async () => {
      app = await startApp(adapter, {
        imports: [OAuth2Module.forRoot(options((decision) => void decisions.push(decision)))],
        controllers: [AuditedController],
      });
      apps.push(app);
    });

    beforeEach(() => {
      decisions.length = 0;
    });

    const get = (path: string, authorization?: string) => {
      const call = request(app.getHttpServer()).get(path);
      return authorization === undefined ? call : call.set('Authorization', authorization);
    };

    it('an allowed request: resource, client and fingerprint, on a miss and on a cache hit', async () => {
      await get('/a', `Bearer ${active}`).expect(200);
      await get('/a', `Bearer ${active}`).expect(200);

      const expected = { allowed: true, resource: 'as', clientId: 'client-a', tokenFingerprint: fingerprint(active) };
      expect(decisions.map(withoutContext)).toEqual([expected, expected]);
      expect(decisions[0].context.getType()).toBe('http');
      expect(decisions[0].context.getHandler().name).toBe('read');
    });

    it('rejections: the key, and what is known of the token', async () => {
      await get('/a', `Bearer ${inactive}`).expect(401);
      await get('/a/admin', `Bearer ${active}`).expect(403);
      await get('/a').expect(401);
      // Outside RFC 6750's b64token syntax: refused before introspection, and not fingerprinted.
      await get('/a', 'Bearer not|a|token').expect(401);

      expect(decisions.map(withoutContext)).toEqual([
        {
          allowed: false,
          key: OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN,
          resource: 'as',
          tokenFingerprint: fingerprint(inactive),
        },
        {
          allowed: false,
          key: OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE,
          resource: 'as',
          clientId: 'client-a',
          tokenFingerprint: fingerprint(active),
        },
        { allowed: false, key: OAuth2ErrorKey.OAUTH2_MISSING_HEADER },
        { allowed: false, key: OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN },
      ]);
    });

    it('a skipped route makes no decision; an optional one without a token is allowed without a fingerprint', async () => {
      await get('/a/open').expect(200);
      await get('/a/maybe').expect(200);

      expect(decisions.map(withoutContext)).toEqual([{ allowed: true }]);
    });

    it('no decision holds the token', async () => {
      await get('/a', `Bearer ${active}`).expect(200);
      await get('/a', `Bearer ${inactive}`).expect(401);

      const text = JSON.stringify(decisions.map(withoutContext));
      expect(decisions).toHaveLength(2);
      expect(text).not.toContain(active);
      expect(text).not.toContain(inactive);
    });
  });

  it.each([
    [
      'throws',
      (decision: OAuth2Decision) => {
        throw new Error(`audit store down for ${String(decision.tokenFingerprint)}`);
      },
    ],
    ['returns a rejected promise', () => Promise.reject(new TypeError('audit store down'))],
  ])('a hook that %s changes no decision, and is logged once, without the token', async (_, hook) => {
    const logger = new RecordingLogger();
    const app = await startApp(
      adapter,
      { imports: [OAuth2Module.forRoot(options(hook))], controllers: [AuditedController] },
      logger,
    );
    apps.push(app);

    await request(app.getHttpServer()).get('/a').set('Authorization', `Bearer ${active}`).expect(200);
    await request(app.getHttpServer()).get('/a').set('Authorization', `Bearer ${active}`).expect(200);
    await request(app.getHttpServer()).get('/a').set('Authorization', `Bearer ${inactive}`).expect(401);
    await request(app.getHttpServer()).get('/a').expect(401);

    const failures = logger.lines.filter((line) => line.includes('onDecision hook failed'));
    expect(failures).toHaveLength(1);
    expect(logger.lines.join('\n')).not.toContain(active);
    expect(logger.lines.join('\n')).not.toContain('audit store down');
  });

  it('a hook that is not a function fails the start', async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot({ ...options(undefined), onDecision: 'audit' as unknown as () => void })],
      controllers: [AuditedController],
    });
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    expect(error.message).toContain('onDecision must be a function');
  });
});
