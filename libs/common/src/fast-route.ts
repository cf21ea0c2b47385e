import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from './logger';

/** A handler for one hot route, called with Node's own request and response (no framework in between). */
export type FastRouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Serves one `method` + `path` straight from Node's HTTP server, before the
 * Nest (Express) app sees the request; every other request goes to the app as
 * before (health, metrics, 404s). The path matches as Express matches a
 * route: without the query string, case-insensitive, with or without one
 * trailing slash. For the webhook app's POST /webhooks/dojo, where Express's
 * router, its response helpers (ETag hashing) and Nest's handler pipeline were
 * about a tenth of the process's CPU per event. Call before the server listens.
 * A handler that throws answers 500 (JSON) if it had not answered yet.
 */
export function serveFastRoute(server: Server, method: string, path: string, handler: FastRouteHandler, logger: Logger): void {
  const app = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  const want = path.toLowerCase();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === method && matches(req.url ?? '', want)) {
      handler(req, res).catch((err: Error) => {
        logger.error({ err: err.message, path }, 'request failed');
        if (res.headersSent || res.destroyed) return;
        sendJson(res, 500, { statusCode: 500, error: 'Internal Server Error' });
      });
      return;
    }
    for (const l of app) l.call(server, req, res);
  });
}

function matches(url: string, want: string): boolean {
  const q = url.indexOf('?');
  let p = (q < 0 ? url : url.slice(0, q)).toLowerCase();
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p === want;
}

/** Answers with a JSON body (UTF-8, with its length), as Express's res.status(s).json(body) does. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
