import type { Counter, Histogram } from 'prom-client';
import { boundCounter, gatewayMetrics } from '@app/common';

/** The gateway's counters for one protocol (connection profile), bound once and shared by every link speaking it. */
export interface ProtocolMetrics {
  connects: Counter.Internal;
  reconnects: Counter.Internal;
  authRefusals: Counter.Internal;
  handshakeAuth: Counter.Internal;
  handshakeHttp: Counter.Internal;
  handshakeNetwork: Counter.Internal;
  pingRtt: Histogram.Internal<string>;
  framesIn: Counter.Internal;
  framesOut: Counter.Internal;
}

const byProtocol = new Map<string, ProtocolMetrics>();

export function protocolMetrics(protocol: string): ProtocolMetrics {
  let m = byProtocol.get(protocol);
  if (!m) {
    const g = gatewayMetrics();
    m = {
      connects: boundCounter(g.connects, protocol),
      reconnects: boundCounter(g.reconnects, protocol),
      authRefusals: boundCounter(g.authRefusals, protocol),
      handshakeAuth: boundCounter(g.handshakeFailures, protocol, 'auth'),
      handshakeHttp: boundCounter(g.handshakeFailures, protocol, 'http'),
      handshakeNetwork: boundCounter(g.handshakeFailures, protocol, 'network'),
      pingRtt: g.pingRtt.labels(protocol),
      framesIn: boundCounter(g.frames, 'in', protocol),
      framesOut: boundCounter(g.frames, 'out', protocol),
    };
    byProtocol.set(protocol, m);
  }
  return m;
}

/** Request outcomes counted by epos_relay_gateway_requests_total. */
export type RequestOutcome = 'ok' | 'error' | 'failed' | 'duplicate' | 'invalid';

/** Per method: the requests counter of each outcome and the latency histogram, bound once. */
export interface MethodMetrics {
  outcome: Record<RequestOutcome, Counter.Internal>;
  duration: Histogram.Internal<string>;
}

const byMethod = new Map<string, MethodMetrics>();

export function methodMetrics(method: string): MethodMetrics {
  let m = byMethod.get(method);
  if (!m) {
    const g = gatewayMetrics();
    // Shown from 0: the outcomes a method can have (a real method is never 'invalid'; the edge's refusals are 'invalid' or 'failed').
    const shown: RequestOutcome[] = method === 'invalid' ? ['invalid', 'failed'] : ['ok', 'error', 'failed', 'duplicate'];
    const c = (o: RequestOutcome) => (shown.includes(o) ? boundCounter(g.requests, method, o) : g.requests.labels(method, o));
    m = {
      outcome: { ok: c('ok'), error: c('error'), failed: c('failed'), duplicate: c('duplicate'), invalid: c('invalid') },
      duration: g.requestDuration.labels(method),
    };
    byMethod.set(method, m);
  }
  return m;
}
