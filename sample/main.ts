import { type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

/**
 * Starts the orders API on `PORT` (default 3000; 0 lets the system choose) at 127.0.0.1, configured
 * from the environment (see sample-config.ts).
 */
export async function bootstrap(): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule);
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  return app;
}

// `node dist-sample/sample/main.js`: the API alone, against the server OAUTH2_INTROSPECTION_URL names.
if (require.main === module) {
  void bootstrap().then(async (app) => {
    app.enableShutdownHooks();
    Logger.log(`orders API on ${await app.getUrl()} (GET /health is public)`, 'Sample');
  });
}
