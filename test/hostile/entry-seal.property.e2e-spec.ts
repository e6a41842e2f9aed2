import { createClient } from '@keyv/redis';
import { Controller, Get, type INestApplication, UseGuards } from '@nestjs/common';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, TokenCacheRegistry } from '../../lib';
import { EntrySeal } from '../../lib/cache/entry-seal';
import { genericResource } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { describeWithRedis, RedisServer } from '../support/redis-server';

/**
 * Issue 12, point 7, property-based, in a real Redis: for arbitrary payloads and arbitrary tamperings
 * of what the store holds (a character of the entry or of its MAC flipped, inserted or deleted, the
 * whole sealed value edited as text, another token's value copied in, a value sealed under another
 * secret, or this entry's MAC taken from another key), a tampered entry is never served: the next
 * request is a miss and the token is introspected again. An untouched entry is a hit. The MAC does not
 * cover Keyv's `expires` beside the sealed value (Redis's own expiry bounds the entry): not tampered
 * with here.
 */

const SECRET = 'a secret of thirty-two characters';
const OTHER_SECRET = 'another secret, thirty-two chars';

@Controller('data')
@UseGuards(OAuth2Guard)
class DataController {
  @Get()
  read() {
    return { ok: true };
  }
}

/** Payloads of any JSON claims beside the ones the guard reads. */
const payload = fc
  .record({
    client_id: fc.string({ maxLength: 12 }),
    scope: fc.constantFrom('read', 'read write', 'a b c', ''),
    extra: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }).map((name) => `x_${name}`),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 4 },
    ),
  })
  .map(({ client_id, scope, extra }) => ({ ...extra, active: true, client_id, scope }));

/** A character of any width: ASCII, a JSON metacharacter, non-ASCII, astral. */
const character = fc.oneof(
  fc.constantFrom('"', '\\', '{', '}', ':', ',', 'A', '0', '=', '-', '_', ' ', '\u00e9', '\u{1f600}'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);

type Edit =
  { kind: 'flip' | 'insert'; at: number; character: string } | { kind: 'delete'; at: number } | { kind: 'none' };

type Tampering =
  | { kind: 'untouched' }
  | { kind: 'edit'; field: 'entry' | 'mac' | 'value-as-text'; edit: Exclude<Edit, { kind: 'none' }> }
  | { kind: 'copy-from-other-token' }
  | { kind: 'sealed-under-other-secret' }
  | { kind: 'mac-of-other-key' };

const tampering: fc.Arbitrary<Tampering> = fc.oneof(
  fc.constant<Tampering>({ kind: 'untouched' }),
  fc.record({
    kind: fc.constant('edit' as const),
    field: fc.constantFrom('entry' as const, 'mac' as const, 'value-as-text' as const),
    edit: fc.oneof(
      fc.record({ kind: fc.constantFrom('flip' as const, 'insert' as const), at: fc.nat(), character }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
    ),
  }),
  fc.constantFrom<Tampering>(
    { kind: 'copy-from-other-token' },
    { kind: 'sealed-under-other-secret' },
    { kind: 'mac-of-other-key' },
  ),
);

/** Applies an edit to a string, by code point; returns it unchanged when the edit changes nothing. */
function applyEdit(text: string, edit: Exclude<Edit, { kind: 'none' }>): string {
  const characters = [...text];
  const at = edit.at % (characters.length + (edit.kind === 'insert' ? 1 : 0) || 1);
  switch (edit.kind) {
    case 'flip':
      characters.splice(at, 1, edit.character);
      break;
    case 'insert':
      characters.splice(at, 0, edit.character);
      break;
    case 'delete':
      characters.splice(at, 1);
      break;
  }
  return characters.join('');
}

/**
 * Whether a value still holds the very entry text sealed under this key, with the very MAC text: the
 * only values that may be served. An edit that changes nothing of either (a character flipped to
 * itself, `\\/` for `/` inside the JSON text, which JSON reads back the same) leaves the same authenticated
 * entry; a character inserted in the MAC text, even one base64url decoding would skip, does not.
 */
function sealedAsStored(value: unknown, stored: { entry: string; mac: string }): boolean {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const { entry, mac } = value as { entry?: unknown; mac?: unknown };
  return entry === stored.entry && mac === stored.mac;
}

describeWithRedis('sealed cache entries in a real Redis, property-based', () => {
  let redis: RedisServer;
  let raw: ReturnType<typeof createClient>;

  beforeAll(async () => {
    redis = await RedisServer.start();
    raw = createClient({ url: redis.url });
    raw.on('error', () => undefined);
    await raw.connect();
  });
  afterAll(async () => {
    raw?.destroy();
    await redis?.stop();
  });

  describe.each(ADAPTERS)('%s', (adapter) => {
    const server = new ScriptedIntrospectionServer();
    let app: INestApplication;

    const introspections = () => server.requestsTo('/introspect').length;
    const get = (token: string) => request(app.getHttpServer()).get('/data').set('Authorization', `Bearer ${token}`);
    const keyOf = (token: string) =>
      `oauth2:${adapter}:${app.get(TokenCacheRegistry).get('shared').keyOf('as', token)}`;

    beforeAll(async () => {
      const url = await server.start();
      app = await startApp(adapter, {
        imports: [
          OAuth2Module.forRoot({
            resources: [genericResource('as', url)],
            caches: [
              {
                name: 'shared',
                type: 'redis',
                url: redis.url,
                keyPrefix: `oauth2:${adapter}:`,
                timeToLiveSeconds: 300,
                hmacSecret: SECRET,
              },
            ],
            policy: { oauthResource: 'as', oauthCacheResource: 'shared' },
          }),
        ],
        controllers: [DataController],
      });
    });
    afterAll(async () => {
      await app?.close();
      await server.stop();
    });

    it('serves an entry only as it was sealed under its key and secret: a tampered one is a miss, an untouched one a hit', async () => {
      await fc.assert(
        fc.asyncProperty(payload, payload, tampering, async (mine, theirs, change) => {
          const token = randomBytes(24).toString('base64url');
          const other = randomBytes(24).toString('base64url');
          server.tokens.set(token, mine);
          server.tokens.set(other, theirs);
          expect((await get(token)).status).toBe(200);
          expect((await get(other)).status).toBe(200);
          const storedText = (await raw.get(keyOf(token)))!;
          const stored = JSON.parse(storedText) as { value: { entry: string; mac: string }; expires?: number };
          const otherStored = JSON.parse((await raw.get(keyOf(other)))!) as typeof stored;

          let value: unknown = stored.value;
          switch (change.kind) {
            case 'untouched':
              break;
            case 'edit':
              if (change.field === 'value-as-text') {
                const text = applyEdit(JSON.stringify(stored.value), change.edit);
                // Still JSON: the edited object; no longer JSON: the text itself.
                try {
                  value = JSON.parse(text);
                } catch {
                  value = text;
                }
              } else {
                value = { ...stored.value, [change.field]: applyEdit(stored.value[change.field], change.edit) };
              }
              break;
            case 'copy-from-other-token':
              value = otherStored.value;
              break;
            case 'sealed-under-other-secret':
              value = new EntrySeal(OTHER_SECRET, 'shared').seal(keyOf(token), JSON.parse(stored.value.entry));
              break;
            case 'mac-of-other-key':
              value = new EntrySeal(SECRET, 'shared').seal(keyOf(other), JSON.parse(stored.value.entry));
              break;
          }
          const tampered = JSON.stringify({ ...stored, value });
          await raw.set(keyOf(token), tampered, { PX: 60_000 });

          const misses = sealedAsStored(value, stored.value) ? 0 : 1;
          if (change.kind === 'untouched') {
            expect([tampered, misses]).toEqual([storedText, 0]);
          }

          const before = introspections();
          const response = await get(token);
          expect(response.status).toBe(200);
          expect(introspections() - before).toBe(misses);
          // A miss put back a good entry: the next request is a hit again.
          expect((await get(token)).status).toBe(200);
          expect(introspections() - before).toBe(misses);
          server.tokens.delete(token);
          server.tokens.delete(other);
        }),
        { numRuns: 40 },
      );
    });
  });
});
