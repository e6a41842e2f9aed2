import type { ArgumentsHost } from '@nestjs/common';
import { wwwAuthenticate } from '../errors/error-response';
import type { OAuth2Exception } from '../errors/oauth2.exception';
import { type TransportErrorSettings, graphQLErrorOf, transportErrorOf } from './transport-error';
import { transportPackages } from './transport-packages';
import { carrierOf, isHttpRequest } from './transport-request';

/** A Fastify reply, as Mercurius puts it into the GraphQL context. */
interface ReplyLike {
  header(name: string, value: string): unknown;
}

function isReply(value: unknown): value is ReplyLike {
  return typeof value === 'object' && value !== null && typeof (value as ReplyLike).header === 'function';
}

/**
 * A rejection as the transport of the call reports it: a GraphQL error (its `extensions` carry the key and
 * the status; Mercurius's reply also gets the `WWW-Authenticate` challenge), a `WsException` or an
 * `RpcException` whose error is `{ key, statusCode, message }`. An HTTP call, or a transport whose package
 * is not loaded, keeps the `OAuth2Exception`.
 */
export function transportRejection(
  exception: OAuth2Exception,
  host: ArgumentsHost,
  settings: TransportErrorSettings,
): Error {
  switch (host.getType<string>()) {
    case 'graphql': {
      // Mercurius's context holds the Fastify reply: the challenge goes there, and not into the answer.
      const reply = (host.getArgByIndex<{ reply?: unknown } | undefined>(2) ?? {}).reply;
      const mercurius = isReply(reply);
      const challenge = mercurius
        ? wwwAuthenticate(exception, settings.realm, settings.errorProfile, settings.protectedResource?.metadataUrl)
        : undefined;
      if (mercurius && challenge) {
        reply.header('WWW-Authenticate', challenge);
      }
      // extensions.http is for Apollo Server over HTTP; a subscription's error goes to the client as it is.
      return graphQLErrorOf(exception, settings, !mercurius && isHttpRequest(carrierOf(host)));
    }
    case 'ws': {
      const { WsException } = transportPackages();
      return WsException ? new WsException(transportErrorOf(exception, settings)) : exception;
    }
    case 'rpc': {
      const { RpcException } = transportPackages();
      return RpcException ? new RpcException(transportErrorOf(exception, settings)) : exception;
    }
    default:
      return exception;
  }
}

/**
 * `propagateAuthHeader: false` outside HTTP: the microservice message's `authorization` member goes, so
 * that the handler cannot pass the token on. A GraphQL subscription's `connection_init` payload and a
 * gateway's handshake belong to the connection, and stay.
 */
export function removeTransportCredential(host: ArgumentsHost): void {
  if (host.getType<string>() !== 'rpc') {
    return;
  }
  const data = host.getArgByIndex<unknown>(0);
  if (typeof data === 'object' && data !== null && 'authorization' in data) {
    delete (data as { authorization?: unknown }).authorization;
  }
}
