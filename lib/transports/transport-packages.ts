import { Injectable, type OnModuleInit } from '@nestjs/common';
import { OptionalPackageLoader } from '../common/optional-package.loader';

/** The exception class a gateway's handler throws for Nest's `BaseWsExceptionFilter` to send to the client. */
type WsExceptionClass = new (error: object) => Error;
/** The exception class a microservice's handler throws for Nest's `BaseRpcExceptionFilter` to send to the client. */
type RpcExceptionClass = new (error: object) => Error;
/** Nest's filter that sends an `RpcException`'s error to the client (an Observable that errors). */
type RpcFilterClass = new () => { catch(exception: Error, host: unknown): unknown };
/** Nest's filter that sends a `WsException`'s error to the client (an `exception` event). */
type WsFilterClass = new () => { catch(exception: Error, host: unknown): void };

/**
 * The classes of the application's own `@nestjs/websockets` and `@nestjs/microservices`, when it has
 * them. Nest's exception handlers of those transports send a client only the exceptions of their own
 * classes (anything else is an "Internal server error"), so the guard must throw exactly those. Both
 * packages are optional peers: a REST-only application has neither.
 */
export interface TransportPackages {
  readonly WsException?: WsExceptionClass;
  readonly BaseWsExceptionFilter?: WsFilterClass;
  readonly RpcException?: RpcExceptionClass;
  readonly BaseRpcExceptionFilter?: RpcFilterClass;
}

const loaded: { -readonly [K in keyof TransportPackages]: TransportPackages[K] } = {};

/** The transport packages loaded at start-up (empty before, and for an application that has none). */
export function transportPackages(): TransportPackages {
  return loaded;
}

/**
 * Loads `@nestjs/websockets` and `@nestjs/microservices` at start-up when the application has them
 * installed, so that a rejection in a gateway or a microservice is thrown synchronously. One import
 * each, of packages an application installs only to use them.
 */
@Injectable()
export class TransportPackagesLoader implements OnModuleInit {
  constructor(private readonly packages: OptionalPackageLoader) {}

  async onModuleInit(): Promise<void> {
    const websockets = await this.packages.loadIfInstalled('@nestjs/websockets', () => import('@nestjs/websockets'));
    if (websockets) {
      loaded.WsException = websockets.WsException as unknown as WsExceptionClass;
      loaded.BaseWsExceptionFilter = websockets.BaseWsExceptionFilter as unknown as WsFilterClass;
    }
    const microservices = await this.packages.loadIfInstalled(
      '@nestjs/microservices',
      () => import('@nestjs/microservices'),
    );
    if (microservices) {
      loaded.RpcException = microservices.RpcException as unknown as RpcExceptionClass;
      loaded.BaseRpcExceptionFilter = microservices.BaseRpcExceptionFilter as unknown as RpcFilterClass;
    }
  }
}
