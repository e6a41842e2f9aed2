import { ArgumentsHost, Catch, ExceptionFilter, Inject } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OAUTH2_RESOLVED_OPTIONS } from '../oauth2.constants';
import type { ResolvedOAuth2ModuleOptions } from '../options/validate-options';
import { renderErrorResponse } from './error-response';
import { OAuth2Exception } from './oauth2.exception';

/**
 * Renders {@link OAuth2Exception}s: status, `WWW-Authenticate` and body, or the matching response
 * template. Registered application-wide by `OAuth2Module`; works on Express and Fastify alike.
 */
@Catch(OAuth2Exception)
export class OAuth2ExceptionFilter implements ExceptionFilter<OAuth2Exception> {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(OAUTH2_RESOLVED_OPTIONS) private readonly options: ResolvedOAuth2ModuleOptions,
  ) {}

  catch(exception: OAuth2Exception, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const accept = request.headers.accept;
    const rendered = renderErrorResponse(exception, Array.isArray(accept) ? accept.join(',') : accept, this.options);
    const adapter = this.adapterHost.httpAdapter;
    const response: unknown = http.getResponse();
    for (const [name, value] of Object.entries(rendered.headers)) {
      adapter.setHeader(response, name, value);
    }
    adapter.reply(response, rendered.body, rendered.status);
  }
}
