import { Body, Controller, Get, Post } from '@nestjs/common';
import { OAuth2Attribute, RequiredScopes, SkipOAuth2 } from '../lib';

interface Order {
  id: number;
  item: string;
  placedBy?: string;
}

/** A small orders API: reading needs `orders:read`, writing `orders:write`; `/health` is public. */
@Controller()
export class OrdersController {
  private readonly orders: Order[] = [{ id: 1, item: 'coffee beans' }];

  @Get('health')
  @SkipOAuth2()
  health() {
    return { status: 'ok' };
  }

  @Get('orders')
  @RequiredScopes('orders:read')
  list(): Order[] {
    return this.orders;
  }

  @Post('orders')
  @RequiredScopes('orders:write')
  create(@Body() body: { item?: string }, @OAuth2Attribute('oauth.client_id') clientId?: string): Order {
    const order = { id: this.orders.length + 1, item: String(body?.item ?? 'unnamed'), placedBy: clientId };
    this.orders.push(order);
    return order;
  }

  @Get('me')
  me(
    @OAuth2Attribute('oauth.client_id') clientId?: string,
    @OAuth2Attribute('user') user?: string,
    @OAuth2Attribute('user.roles') scopes?: readonly string[],
  ) {
    return { clientId, user, scopes };
  }
}
