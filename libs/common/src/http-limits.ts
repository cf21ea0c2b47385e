import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The most body bytes an app reads and throws away after deciding to refuse a
 * request (413) before answering. Closing a socket with unread bytes makes the
 * kernel reset it, and a reset can destroy the answer before the client reads
 * it; so a refused body is drained first. Beyond this many bytes the app
 * answers and closes the connection instead (HTTP_REQUEST_TIMEOUT_MS bounds
 * how long a slow drain can take).
 */
export const DRAIN_MAX_BYTES = 64 * 1_048_576;

export type DrainOutcome = 'drained' | 'over-cap' | 'aborted';

/**
 * Reads and discards the rest of a request body. Resolves 'drained' at its end,
 * 'over-cap' once more than `capBytes` have been discarded, 'aborted' when the
 * client goes away.
 */
export function drainRequest(req: IncomingMessage, capBytes = DRAIN_MAX_BYTES): Promise<DrainOutcome> {
  if (req.complete || req.readableEnded) return Promise.resolve('drained');
  if (req.destroyed) return Promise.resolve('aborted');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > capBytes) return Promise.resolve('over-cap');
  return new Promise((resolve) => {
    let discarded = 0;
    const done = (outcome: DrainOutcome) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > capBytes) done('over-cap');
    };
    const onEnd = () => done('drained');
    const onClose = () => done(req.complete ? 'drained' : 'aborted');
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
    req.resume();
  });
}

/**
 * Answers a request whose body is too large with 413 and a JSON body, after
 * draining what is left of the body (see DRAIN_MAX_BYTES), so the client reads
 * the answer instead of a reset connection.
 */
export async function answerTooLarge(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): Promise<void> {
  const outcome = await drainRequest(req);
  if (res.headersSent || res.destroyed || outcome === 'aborted') return;
  const json = JSON.stringify({ statusCode: 413, ...body });
  res.statusCode = 413;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(json));
  if (outcome === 'over-cap') {
    // Too much to read through: answer, then close once the answer is out.
    res.setHeader('connection', 'close');
    res.on('finish', () => setTimeout(() => req.socket.destroy(), 1_000).unref());
  }
  res.end(json);
}

export interface HttpServerTimeouts {
  /** Longest time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Longest time to receive a whole request, headers and body. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
}

/**
 * Applies the timeouts to a Node HTTP server before it listens, and answers
 * requests Node itself refuses (unparsable, headers too large, too slow) with
 * a JSON error like every other 4xx. Node checks the header and request
 * timeouts on a timer (connectionsCheckingInterval, 30 s by default), so the
 * timer runs often enough for the shortest of them.
 */
export function hardenHttpServer(server: Server, t: HttpServerTimeouts): void {
  server.headersTimeout = t.headersTimeoutMs;
  server.requestTimeout = t.requestTimeoutMs;
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
  const shortest = Math.min(...[t.headersTimeoutMs, t.requestTimeoutMs].filter((v) => v > 0));
  if (Number.isFinite(shortest)) {
    (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(30_000, Math.max(50, Math.floor(shortest / 4)));
  }
  server.on('clientError', answerClientError);
}

const answered = new WeakSet<Duplex>();

/** What Node does by default on a client error (see its socketOnError), with a JSON body, and a moment for the client to read it. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (answered.has(socket)) return; // the parser may report the same broken stream again
  answered.add(socket);
  socket.on('error', () => undefined); // the stream is already broken; we only try to answer and close it
  const inFlight = (socket as Duplex & { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?._headerSent) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431 ? 'the request headers are too large' : status === 408 ? 'the request took too long to arrive' : 'the request could not be parsed as HTTP';
  const body = JSON.stringify({ statusCode: status, error: STATUS_CODES[status], message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // Closing at once with unread bytes would reset the connection and could destroy the answer before it is read.
  setTimeout(() => socket.destroy(), 1_000).unref();
}
