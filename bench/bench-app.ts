/**
 * The application under load, in its own process: the same handler unguarded, behind a guard that
 * allows everything (Nest's own cost of a guard), and behind OAuth2Guard three ways. Environment: ADAPTER (express | fastify), AS_URL, REDIS_URL (optional), GUARD_TIME (optional, see timeTheGuard). Prints `READY <port>`.
 * GET /__bench/heap → heap used after a full garbage collection (run with --expose-gc).
 * POST /__bench/server-timing/start, /stop, and GET /__bench/server-timing: server time per labelled
 * request (see server-timing.ts), for the interleaved pairs: GET /skipped (a route of the guarded
 * controller that `@SkipOAuth2()` exempts) against GET /memory, and the `skippedOrder` query against
 * `memoryOrder`.
 * POST /graphql: two queries answering the same object, `unguardedOrder` and `memoryOrder` (behind
 * OAuth2Guard with the memory cache, as GET /memory), code-first; Nest's Apollo driver on Express,
 * its Mercurius driver on Fastify.
 */
import 'reflect-metadata';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  CanActivate,
  ConsoleLogger,
  Controller,
  Get,
  HttpCode,
  INestApplication,
  Module,
  Post,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Field, GraphQLModule, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import {
  OAuth2CacheResourceOptions,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Policy,
  RequiredScopes,
  SkipOAuth2,
} from '../lib';
import { ServerTimingRecorder, type ServerTimings } from './server-timing';

const fastify = process.env.ADAPTER === 'fastify';
const asUrl = process.env.AS_URL ?? '';
const redisUrl = process.env.REDIS_URL;
/** Set once the application listens. */
let recorder: ServerTimingRecorder | undefined;

/**
 * `GUARD_TIME=1` (`--guard-time`): times `OAuth2Guard.canActivate` on every call, for the recorder to
 * tell to the labelled request in flight. Off by default: the wrapper's call and two clock reads
 * would be counted in both variants of the server-time ratio.
 */
function timeTheGuard(): void {
  const canActivate = OAuth2Guard.prototype.canActivate;
  OAuth2Guard.prototype.canActivate = function timedCanActivate(this: OAuth2Guard, context) {
    const started = process.hrtime.bigint();
    try {
      return canActivate.call(this, context);
    } finally {
      recorder?.guardTime(Number(process.hrtime.bigint() - started));
    }
  };
}
if (process.env.GUARD_TIME === '1') {
  timeTheGuard();
}

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

  @Post('__bench/server-timing/start')
  @HttpCode(204)
  startTiming(): void {
    recorder!.start();
  }

  @Post('__bench/server-timing/stop')
  @HttpCode(204)
  stopTiming(): void {
    recorder!.stop();
  }

  @Get('__bench/server-timing')
  timings(): ServerTimings {
    return recorder!.take();
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
  /** The interleaved pair's reference: the same controller and handler, the guard called and skipping. */
  @Get('skipped')
  @SkipOAuth2()
  skipped() {
    return { ok: true };
  }

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

@ObjectType()
class BenchOrder {
  @Field(() => Boolean)
  ok!: boolean;
}

/** The GraphQL pair: the same query unguarded, and behind OAuth2Guard as GET /memory is. */
@Resolver()
class BenchResolver {
  @Query(() => BenchOrder)
  unguardedOrder(): BenchOrder {
    return { ok: true };
  }

  /** The interleaved pair's reference: behind OAuth2Guard, which skips it. */
  @Query(() => BenchOrder)
  @UseGuards(OAuth2Guard)
  @SkipOAuth2()
  skippedOrder(): BenchOrder {
    return { ok: true };
  }

  @Query(() => BenchOrder)
  @UseGuards(OAuth2Guard)
  @RequiredScopes('orders:read')
  @OAuth2Policy({ oauthCacheResource: 'memory' })
  memoryOrder(): BenchOrder {
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
    // Code-first, the schema built in memory (`autoSchemaFile: true`).
    fastify
      ? GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true })
      : GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
  ],
  controllers: [UnguardedController, NoopGuardedController, GuardedController],
  providers: [BenchResolver],
})
class BenchModule {}

/**
 * Nest logs any error a resolver throws (its ExceptionsHandler), the guard's GraphQL rejections
 * included; the benchmark's warm-up sends one unauthenticated query on purpose, and its rejection is
 * not worth a stack trace in the output. Everything else is logged.
 */
class BenchLogger extends ConsoleLogger {
  override error(message: unknown, ...rest: unknown[]): void {
    if ((message as { extensions?: { code?: unknown } } | undefined)?.extensions?.code === 'OAUTH2_MISSING_HEADER') {
      return;
    }
    super.error(message, ...rest);
  }
}

async function main(): Promise<void> {
  const adapter = fastify ? new FastifyAdapter() : new ExpressAdapter();
  const app: INestApplication = await NestFactory.create(BenchModule, adapter, {
    logger: new BenchLogger({ logLevels: ['error', 'warn'] }),
  });
  await app.listen(0, '127.0.0.1');
  recorder = new ServerTimingRecorder(app.getHttpServer() as Server);
  const port = new URL(await app.getUrl()).port;
  console.log(`READY ${port}`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
