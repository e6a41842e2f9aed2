import { Module } from '@nestjs/common';
import { OAuth2Module } from '../lib';
import { OrdersController } from './orders.controller';
import { sampleOAuth2Options } from './sample-config';

/** The sample application: the guard on every route, configured from the environment. */
@Module({
  imports: [OAuth2Module.forRootAsync({ global: true, useFactory: () => sampleOAuth2Options() })],
  controllers: [OrdersController],
})
export class AppModule {}
