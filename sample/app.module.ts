import { Module } from '@nestjs/common';
import { OAuth2Module } from '../lib';
import { McpController } from './mcp.controller';
import { OrdersController } from './orders.controller';
import { sampleOAuth2Options } from './sample-config';

/** The sample application: the guard on every route, configured from the environment. */
@Module({
  imports: [OAuth2Module.forRootAsync({ global: true, useFactory: () => sampleOAuth2Options() })],
  controllers: [OrdersController, McpController],
})
export class AppModule {}
