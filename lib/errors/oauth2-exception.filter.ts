import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { ResolvedOAuth2ModuleOptions } from '../options/resolved-options';
import { transportRejection } from '../transports/transport-rejection';
import { transportPackages } from '../transports/transport-packages';
import { renderErrorResponse } from './error-response';
import { requestIdOf } from './template-placeholders';
import { OAuth2Exception } from './oauth2.exception';
import { InjectOAuth2Options } from '../decorators/inject-oauth2-options.decorator';

/**
 * Renders {@link OAuth2Exception}s: status, `WWW-Authenticate` and body, or the matching response
 * template. Registered application-wide by `OAuth2Module`; works on Express and Fastify alike.
 *
 * The guard throws the transport's own error outside HTTP; an `OAuth2Exception` that reaches this filter
 * there (thrown by the application's own code) is handed on the same way: as a GraphQL error, or to
 * Nest's own filter of the gateway or microservice as a `WsException` or an `RpcException`.
 */
@Catch(OAuth2Exception)
export class OAuth2ExceptionFilter implements ExceptionFilter<OAuth2Exception> {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectOAuth2Options() private readonly options: ResolvedOAuth2ModuleOptions,
  ) {}

  /**
   * Nothing over HTTP and in gateways; the Observable of Nest's own filter in a microservice. Typed
   * `any`, as Nest's `ExceptionFilter.catch` is, so that an application's filter written for HTTP can
   * still `return this.oauth2Filter.catch(exception, host)` from a method typed `void`.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  catch(exception: OAuth2Exception, host: ArgumentsHost): any {
    switch (host.getType<string>()) {
      case 'http':
        return this.renderHttp(exception, host);
      case 'graphql':
        // Nest's GraphQL exception handler hands what a filter throws on to the GraphQL execution.
        throw transportRejection(exception, host, this.options);
      case 'ws': {
        const { BaseWsExceptionFilter } = transportPackages();
        return BaseWsExceptionFilter
          ? new BaseWsExceptionFilter().catch(transportRejection(exception, host, this.options), host)
          : undefined;
      }
      case 'rpc': {
        const { BaseRpcExceptionFilter } = transportPackages();
        return BaseRpcExceptionFilter
          ? new BaseRpcExceptionFilter().catch(transportRejection(exception, host, this.options), host)
          : undefined;
      }
      default:
        return undefined;
    }
  }

  private renderHttp(exception: OAuth2Exception, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const accept = request.headers.accept;
    const rendered = renderErrorResponse(exception, Array.isArray(accept) ? accept.join(',') : accept, this.options, {
      requestId: requestIdOf(request),
    });
    const adapter = this.adapterHost.httpAdapter;
    const response: unknown = http.getResponse();
    let hasContentType = false;
    for (const [name, value] of Object.entries(rendered.headers)) {
      adapter.setHeader(response, name, value);
      hasContentType ||= name.toLowerCase() === 'content-type';
    }
    if (typeof rendered.body === 'string') {
      adapter.reply(response, rendered.body, rendered.status);
      return;
    }
    // An object body is serialized here rather than by the adapter: Nest 11's ExpressAdapter.reply()
    // relabels an object sent with an error status as application/json, whatever JSON type the template
    // says (application/problem+json); both platforms send a string under the Content-Type given.
    if (!hasContentType) {
      adapter.setHeader(response, 'Content-Type', 'application/json; charset=utf-8');
    }
    adapter.reply(response, JSON.stringify(rendered.body), rendered.status);
  }
}
