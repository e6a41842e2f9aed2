import { All, Controller, Req, Res, UseGuards } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { OAuth2Guard, RequiredScopes } from '../../lib';

/** Express's request and response are Node's; Fastify's wrap them in `raw`, and its reply must be hijacked. */
type PlatformRequest = IncomingMessage & { raw?: IncomingMessage; body?: unknown };
type PlatformResponse = ServerResponse & { raw?: ServerResponse; hijack?: () => void };

/**
 * An MCP server on a Nest route: the official SDK's Streamable HTTP transport, stateless (a server and a
 * transport per request), behind OAuth2Guard. One tool, `list-orders`.
 */
@Controller('mcp')
@UseGuards(OAuth2Guard)
export class McpOrdersController {
  @All()
  @RequiredScopes('orders:read')
  async handle(@Req() request: PlatformRequest, @Res() response: PlatformResponse): Promise<void> {
    const server = new McpServer({ name: 'orders', version: '1.0.0' });
    server.registerTool('list-orders', { description: 'Lists the orders' }, () => ({
      content: [{ type: 'text', text: '[]' }],
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
