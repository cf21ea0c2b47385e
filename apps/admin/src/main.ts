import type { NestExpressApplication } from '@nestjs/platform-express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunningApp } from '@app/common';
import { answerTooLarge, bindRequestScope, bootstrapHttpApp, requestLogFields, requestScopeOf } from '@app/common';
import { adminEnv, loadConfig } from '@app/config';
import { WsAdapter } from '@nestjs/platform-ws';
import { AdminModule } from './admin.module';
import { consoleStatic } from './console/console-static';
import { setupDocs } from './docs';
import { tooLargeBody } from './shared/error.filter';
import { locationOfAdminRoute } from './shared/request-location';
import { QUEUE_BOARD_PATH, QueueBoard } from './queues/queue-board';

/** Starts the admin app with configuration from `env` (process.env by default). */
export function startAdmin(env: NodeJS.ProcessEnv = process.env): Promise<RunningApp> {
  return bootstrapHttpApp({
    name: 'admin',
    loadConfig: () => loadConfig(adminEnv, env),
    module: (config, logger) => AdminModule.forRoot(config, logger),
    // Every line written while a request is open carries its requestId, method, route and locationId.
    logContext: requestLogFields,
    configure: (app, config) => {
      // First: each request's id (x-request-id in and out) and the scope its log lines are written in.
      app.use(bindRequestScope(locationOfAdminRoute));
      // bootstrapHttpApp turns Nest's body parser off; the admin API takes JSON bodies up to a limit.
      // A body declared larger is refused before parsing, read through (so the client gets the 413, not a reset).
      app.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
        const declared = Number(req.headers['content-length']);
        if (Number.isFinite(declared) && declared > config.ADMIN_MAX_BODY_BYTES) {
          // Never rejects: answerTooLarge drains with its own error handling and gives up on an aborted request.
          void answerTooLarge(req, res, tooLargeBody(config.ADMIN_MAX_BODY_BYTES, requestScopeOf(req)?.requestId));
          return;
        }
        next();
      });
      (app as NestExpressApplication).useBodyParser('json', { limit: config.ADMIN_MAX_BODY_BYTES });
      setupDocs(app);
      // The queue board (bull-board) behind operator authentication; see queues/queue-board.ts.
      app.use(QUEUE_BOARD_PATH, app.get(QueueBoard).handler());
      // The operator console: static page at /console, live fleet over ws /console/ws (ConsoleGateway).
      app.use('/console', consoleStatic());
      app.useWebSocketAdapter(new WsAdapter(app));
    },
  });
}

if (require.main === module) {
  // A failed start rejects unhandled: Node prints the error and exits non-zero, which is what we want.
  void startAdmin();
}
