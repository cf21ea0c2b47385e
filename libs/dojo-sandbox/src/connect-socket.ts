import WebSocket from 'ws';
import type { Logger } from '@app/common';

/**
 * What the simulator's two Connect endpoints (`/pat`, `/pac`) share: reading
 * Connect's query string (bare flags such as `final-pos-receipt-request`
 * included) and the keepalive that pings the EPOS and drops a silent one.
 */

/** The path of an upgrade request and its query parameters (a bare flag maps to null; a malformed escape is skipped). */
export function parseConnectQuery(rawUrl: string): { path: string; params: Map<string, string | null> } {
  const [path = '/', query = ''] = rawUrl.split('?', 2);
  const params = new Map<string, string | null>();
  for (const pair of query.split('&').filter((s) => s.length > 0)) {
    const eq = pair.indexOf('=');
    try {
      params.set(decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq)), eq < 0 ? null : decodeURIComponent(pair.slice(eq + 1)));
    } catch {
      // A malformed escape: the parameter is ignored, so the handshake fails on what is missing.
      continue;
    }
  }
  return { path, params };
}

/** A simulator-side Connect socket as the keepalive sees it. */
interface PingedConnection {
  id: string;
  accountId: string;
  socket: WebSocket;
  /** When the outstanding ping went out (ms epoch), null when the last one was answered. */
  awaitingPongSince: number | null;
  pingsSent: number;
}

/** Pings every open connection; terminates one whose previous ping went unanswered for longer than `pongTimeoutMs` (0: never). */
export function pingConnections(connections: Iterable<PingedConnection>, pongTimeoutMs: number, logger: Logger, kind: 'PAT' | 'PAC'): void {
  const now = Date.now();
  for (const c of connections) {
    if (pongTimeoutMs > 0 && c.awaitingPongSince !== null && now - c.awaitingPongSince > pongTimeoutMs) {
      logger.warn({ locationId: c.accountId, connectionId: c.id }, `no pong from the EPOS in time; terminating the ${kind} connection`);
      c.socket.terminate();
      continue;
    }
    if (c.socket.readyState !== WebSocket.OPEN) continue;
    c.socket.ping();
    c.pingsSent++;
    if (c.awaitingPongSince === null) c.awaitingPongSince = Date.now();
  }
}
