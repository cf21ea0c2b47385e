import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { bearerToken, CONFIG, SecretTokens } from '@app/common';
import type { AdminConfig } from '@app/config';
import { JobEnqueuer, QueueName } from '@app/queue';

/** Where the board is mounted on the admin app. */
export const QUEUE_BOARD_PATH = '/queues';
/** The HttpOnly cookie that carries an operator's board session (set by POST /queues/login). */
export const OPERATOR_COOKIE = 'epos_op';
/** What a board session is for (SecretTokens.session): a session is good for the board only. */
const SESSION_PURPOSE = 'queue-board';
/** How long a board session lasts. */
const SESSION_SECONDS = 12 * 3600;

/** What each catalog queue is, shown on the board. */
const DESCRIPTIONS: Record<string, string> = {
  [QueueName.Rpc]: "Dojo's JSON-RPC requests, from the gateways to the workers",
  [QueueName.DojoEvents]: 'Stored Dojo events to apply',
  [QueueName.Registration]: 'Capability registrations with Dojo, per location',
  [QueueName.Counter]: 'Pay at counter: terminal transaction outcomes to settle',
};

type Req = IncomingMessage & { body?: unknown; originalUrl?: string };
type Next = (err?: unknown) => void;

function cookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

const LOGIN_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>epos-relay queues: sign in</title></head>
<body style="font-family:sans-serif;max-width:28rem;margin:4rem auto">
<h1>Queues</h1><p>Sign in with an operator token (one of ADMIN_OPERATOR_TOKENS).</p>
<form method="post" action="${QUEUE_BOARD_PATH}/login"><input type="password" name="token" autocomplete="off" style="width:100%" autofocus>
<p><button type="submit">Sign in</button></p></form></body></html>`;

/** Reads a small urlencoded body (the sign-in form): at most 4 KiB. */
async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 4096) throw new Error('too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The BullMQ queue board (bull-board) of every catalog queue, at /queues on
 * the admin app, behind operator authentication: an operator bearer token
 * (`Authorization: Bearer <token>`, as for /v1) or the HttpOnly cookie
 * `epos_op` holding a 12-hour board session made from one (never the token
 * itself), which `POST /queues/login` sets (token in a JSON or form body,
 * never in the URL; `GET /queues/login` serves the form and
 * `POST /queues/logout` clears it). The cookie is SameSite=Strict, scoped to
 * /queues, and Secure when the request came over HTTPS. The board only
 * shows: every queue is read-only (no adding, editing, retrying, cleaning,
 * emptying or pausing from it).
 */
@Injectable()
export class QueueBoard implements OnApplicationShutdown {
  private readonly queues: JobEnqueuer;
  private readonly operators: SecretTokens;
  private readonly adapter = new ExpressAdapter();

  constructor(@Inject(CONFIG) config: AdminConfig) {
    this.operators = new SecretTokens(config.ADMIN_OPERATOR_TOKENS);
    this.queues = new JobEnqueuer({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    this.adapter.setBasePath(QUEUE_BOARD_PATH);
    createBullBoard({
      queues: Object.values(QueueName).map(
        (name) =>
          new BullMQAdapter(this.queues.queue(name), {
            // Every queue is read-only: a job's data is trusted by its worker (a counter-settle job is what a card
            // terminal reported, so a job added or edited here could record a payment no card paid), a retried RPC job
            // is past its deadline, and emptying a queue loses work. Dead letters are replayed through the operator
            // API (/v1/dead-letters), which requeues from the stored rows.
            readOnlyMode: true,
            description: DESCRIPTIONS[name] ?? '',
          }),
      ),
      serverAdapter: this.adapter,
      options: { uiConfig: { boardTitle: 'epos-relay queues' } },
    });
  }

  /** True when `token` is one of the operator tokens (compared in constant time, against every token). */
  private isOperator(token: string | undefined): boolean {
    return this.operators.accepts(token);
  }

  /** An operator bearer token, or the board session cookie that signing in set. */
  private signedIn(req: IncomingMessage): boolean {
    const bearer = bearerToken(req.headers.authorization);
    if (bearer !== undefined) return this.isOperator(bearer);
    return this.operators.acceptsSession(cookie(req, OPERATOR_COOKIE), SESSION_PURPOSE);
  }

  /** Express middleware for everything under /queues: sign-in and sign-out, then the authenticated board. */
  handler(): (req: Req, res: ServerResponse, next: Next) => void {
    const board = this.adapter.getRouter() as (req: Req, res: ServerResponse, next: Next) => void;
    return (req, res, next) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/login' && req.method === 'GET') return send(res, 200, 'text/html; charset=utf-8', LOGIN_PAGE);
      if (path === '/login' && req.method === 'POST') {
        void this.login(req, res).catch(next);
        return;
      }
      if (path === '/logout' && req.method === 'POST') {
        return send(res, 204, 'text/plain', '', { 'set-cookie': this.cookieHeader(req, '', 0) });
      }
      if (!this.signedIn(req)) {
        const html = /text\/html/.test(String(req.headers.accept ?? ''));
        if (html) {
          return send(res, 401, 'text/html; charset=utf-8', `<!doctype html><p>Operator sign-in required: <a href="${QUEUE_BOARD_PATH}/login">sign in</a>.</p>`);
        }
        return send(
          res,
          401,
          'application/json; charset=utf-8',
          JSON.stringify({ statusCode: 401, error: 'Unauthorized', message: 'an operator token is required (bearer header or the epos_op cookie set by POST /queues/login)' }),
        );
      }
      board(req, res, next);
    };
  }

  private cookieHeader(req: Req, value: string, maxAgeSeconds: number): string {
    const https = (req.socket as { encrypted?: boolean }).encrypted === true || String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
    return `${OPERATOR_COOKIE}=${encodeURIComponent(value)}; Path=${QUEUE_BOARD_PATH}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${https ? '; Secure' : ''}`;
  }

  private async login(req: Req, res: ServerResponse): Promise<void> {
    const type = String(req.headers['content-type'] ?? '');
    let token: unknown;
    let form = false;
    try {
      if (/application\/x-www-form-urlencoded/i.test(type)) {
        form = true;
        token = (await readForm(req)).get('token');
      } else {
        // JSON bodies were parsed by the admin app's body parser.
        token = (req.body as { token?: unknown } | undefined)?.token;
      }
    } catch {
      return send(res, 400, 'application/json; charset=utf-8', JSON.stringify({ statusCode: 400, error: 'Bad Request', message: 'the sign-in body could not be read' }));
    }
    if (typeof token !== 'string' || !this.isOperator(token)) {
      return send(res, 401, 'application/json; charset=utf-8', JSON.stringify({ statusCode: 401, error: 'Unauthorized', message: 'the operator token is not valid' }));
    }
    // The cookie holds a session made from the token, never the token itself (SecretTokens.session).
    const setCookie = this.cookieHeader(req, this.operators.session(token, SESSION_PURPOSE, new Date(Date.now() + SESSION_SECONDS * 1000)), SESSION_SECONDS);
    if (form) return send(res, 303, 'text/plain', '', { location: `${QUEUE_BOARD_PATH}/`, 'set-cookie': setCookie });
    send(res, 204, 'text/plain', '', { 'set-cookie': setCookie });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
  }
}
