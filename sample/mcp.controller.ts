import { All, Controller, Req, Res } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { RequiredScopes } from '../lib';

/** Express's request and response are Node's; Fastify's wrap them in `raw`, and its reply must be hijacked. */
type PlatformRequest = IncomingMessage & { raw?: IncomingMessage; body?: unknown };
type PlatformResponse = ServerResponse & { raw?: ServerResponse; hijack?: () => void };

/**
 * An MCP server (Model Context Protocol) on a Nest route: the official SDK's Streamable HTTP transport,
 * stateless (a server and a transport per request). The global OAuth2Guard checks each request first;
 * with `protectedResource` set, a client without a token is answered 401 with `resource_metadata`, from
 * which it finds the authorization server on its own (see docs/mcp.md).
 */
@Controller('mcp')
export class McpController {
  @All()
  @RequiredScopes('orders:read')
  async handle(@Req() request: PlatformRequest, @Res() response: PlatformResponse): Promise<void> {
    const server = new McpServer({ name: 'orders', version: '1.0.0' });
    server.registerTool('list-orders', { description: 'Lists the orders' }, () => ({
      content: [{ type: 'text', text: JSON.stringify([{ id: 1, item: 'coffee beans' }]) }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const raw = response.raw ?? response;
    raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    response.hijack?.();
    await server.connect(transport);
    await transport.handleRequest(request.raw ?? request, raw, request.body);
  }
}
