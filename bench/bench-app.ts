/**
 * The application under load, in its own process: the same handler unguarded, behind a guard that
 * allows everything (Nest's own cost of a guard), and behind OAuth2Guard three ways. Environment: ADAPTER (express | fastify), AS_URL, REDIS_URL (optional). Prints `READY <port>`.
 * GET /__bench/heap → heap used after a full garbage collection (run with --expose-gc).
 */
import 'reflect-metadata';
import { CanActivate, Controller, Get, INestApplication, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { OAuth2CacheResourceOptions, OAuth2Guard, OAuth2Module, OAuth2Policy, RequiredScopes } from '../lib';

const asUrl = process.env.AS_URL ?? '';
const redisUrl = process.env.REDIS_URL;

@Controller()
class UnguardedController {
  @Get('unguarded')
  orders() {
    return { ok: true };
  }

  @Get('__bench/heap')
  heap() {
    (globalThis as { gc?: () => void }).gc?.();
    return { heapUsed: process.memoryUsage().heapUsed };
  }
}

/** A guard that allows everything: what Nest's guard machinery costs by itself. */
class AllowAllGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Controller()
class NoopGuardedController {
  @Get('noop')
  @UseGuards(AllowAllGuard)
  noop() {
    return { ok: true };
  }
}

@Controller()
@UseGuards(OAuth2Guard)
@RequiredScopes('orders:read')
class GuardedController {
  @Get('memory')
  @OAuth2Policy({ oauthCacheResource: 'memory' })
  memory() {
    return { ok: true };
  }

  @Get('redis')
  @OAuth2Policy({ oauthCacheResource: redisUrl ? 'redis' : false })
  redis() {
    return { ok: true };
  }

  @Get('nocache')
  nocache() {
    return { ok: true };
  }
}

const caches: OAuth2CacheResourceOptions[] = [{ name: 'memory', timeToLiveSeconds: 3600, maxEntries: 200_000 }];
if (redisUrl) {
  caches.push({ name: 'redis', type: 'redis', url: redisUrl, timeToLiveSeconds: 3600 });
}

@Module({
  imports: [
    OAuth2Module.forRoot({
      resources: [
        {
          name: 'as',
          type: 'generic',
          introspectionEndpoint: `${asUrl}/introspect`,
          clientId: 'bench',
          clientSecret: 'bench',
        },
      ],
      caches,
      policy: { oauthResource: 'as' },
    }),
  ],
  controllers: [UnguardedController, NoopGuardedController, GuardedController],
})
class BenchModule {}

async function main(): Promise<void> {
  const adapter = process.env.ADAPTER === 'fastify' ? new FastifyAdapter() : new ExpressAdapter();
  const app: INestApplication = await NestFactory.create(BenchModule, adapter, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const port = new URL(await app.getUrl()).port;
  console.log(`READY ${port}`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
