import { randomUUID } from 'node:crypto';
import type { ConnectPacSettings, JsonRpcResponse } from '@app/contracts';
import { ConnectPac, COUNTER_SIGNATURE_WAIT_MAX_MS } from '@app/contracts';
import type { LocationConfig } from '../locations/location-config';
import { CONNECT_PAC_PROFILE } from '../locations/location-config';
import { connectCodeNames, connectRejection } from './connect-common';
import type { ConnectionProfile, Decoded, GatewayFailure } from './connection-profile';

const C = ConnectPac.PAC_ERROR_CODES;
const CODE_NAMES = connectCodeNames(C);

/** Request ids this profile gives Connect's messages: a notification's is never sent back, a signature request's maps back to Connect's id. */
const NOTIFICATION_PREFIX = 'notification:';
const SIGNATURE_PREFIX = 'signature:';
/** Messages decoded and not yet answered, kept at most this many (the oldest forgotten first). */
const MAX_OPEN = 10_000;

/** A notification is stored and published: a short deadline [choice]. */
const NOTIFICATION_DEADLINE_MS = 5_000;
/** The worker waits up to the location's signatureWaitMs (at most COUNTER_SIGNATURE_WAIT_MAX_MS) for the POS, then applies the default. */
const SIGNATURE_DEADLINE_MS = COUNTER_SIGNATURE_WAIT_MAX_MS + 5_000;

type PacResponse = { jsonrpc: '2.0'; id: string | number | null; result: unknown } | { jsonrpc: '2.0'; id: string | number | null; error: ConnectPac.PacError & { data?: unknown } };

function settingsOf(location: LocationConfig): ConnectPacSettings {
  return (location.settings ?? {}) as unknown as ConnectPacSettings;
}

/**
 * Paymentsense Connect pay at counter: the EPOS dials
 * `wss://<host>.[test.]connect.paymentsense.cloud/pac?token=…&api-version=v1&software-house-id=…&installer-id=…`
 * (a per-link URL override replaces the base, e.g. the sandbox). Unlike the other profiles, most traffic is ours:
 * the counter pump (counter/counter-pump.ts) sends sale / refund / duplicate / cancelTransaction / connectedTerminals
 * and Connect's replies to them decode as `reply`, which the gateway hands to the pump, never to the workers.
 * What Connect itself sends goes to the worker's connect-pac dialect: `terminalNotification` (a notification: a
 * request with a generated id whose answer is never sent) and `signatureVerificationRequest` (answered
 * `{accepted}` with Connect's id). Connect's errorMessage is logged and never answered.
 */
export class ConnectPacProfile implements ConnectionProfile {
  readonly name = CONNECT_PAC_PROFILE;
  readonly dialect = CONNECT_PAC_PROFILE;
  /** Our ids of Connect's messages in flight: notification ids (nothing is sent back) and signature ids (Connect's own id). */
  private readonly open = new Map<string, { kind: 'notification' } | { kind: 'signature'; id: string | number }>();

  buildUrl(location: LocationConfig): string {
    const s = settingsOf(location);
    const base = location.wsUrl ?? ConnectPac.connectPacBaseUrl({ hostAddress: s.hostAddress, environment: s.environment });
    return ConnectPac.connectPacUrl(base, { token: location.apiKey ?? '', softwareHouseId: location.softwareHouseId, installerId: s.installerId });
  }

  handshakeHeaders(): Record<string, string> {
    return {};
  }

  private remember(id: string, what: { kind: 'notification' } | { kind: 'signature'; id: string | number }): string {
    this.open.set(id, what);
    if (this.open.size > MAX_OPEN) this.open.delete(this.open.keys().next().value!);
    return id;
  }

  decode(text: string): Decoded {
    const d = ConnectPac.decodePacFrame(text);
    switch (d.kind) {
      case 'reply':
        return { kind: 'reply', id: d.id, result: d.result };
      case 'reply-error':
        return { kind: 'reply', id: d.id, error: { code: d.error.code, message: d.error.message } };
      case 'notice':
        return { kind: 'ignore', message: 'errorMessage from Connect', fields: { code: d.error.code, errorMessage: d.error.message.slice(0, 200), inReplyTo: d.id } };
      case 'reject':
        return connectRejection(d, CODE_NAMES);
      case 'notification':
        // In order: a terminal's progress reaches the POS as it happened.
        return { kind: 'request', id: this.remember(`${NOTIFICATION_PREFIX}${randomUUID()}`, { kind: 'notification' }), method: d.method, params: d.params, ordered: true };
      case 'request':
        return { kind: 'request', id: this.remember(`${SIGNATURE_PREFIX}${randomUUID()}`, { kind: 'signature', id: d.id }), method: d.method, params: d.params };
    }
  }

  /** A notification's answer is never sent; a signature request's is `{accepted}` (or an error) under Connect's own id. */
  encode(response: JsonRpcResponse, id: string | number | null): string | undefined {
    const r = response as unknown as PacResponse;
    const mine = typeof id === 'string' ? this.open.get(id) : undefined;
    if (mine) this.open.delete(id as string);
    if (mine?.kind === 'notification') return undefined;
    const wireId = mine?.kind === 'signature' ? mine.id : id;
    if ('result' in r) {
      if (wireId === null) return undefined;
      const accepted = (r.result as { accepted?: unknown } | null)?.accepted;
      return ConnectPac.encodePacResult(wireId, { accepted: accepted === true });
    }
    const { data, ...error } = r.error;
    const d = (data ?? {}) as { method?: string; traceId?: string };
    const body = d.traceId ? { ...error, data: { traceId: d.traceId } } : error;
    return ConnectPac.encodePacError(wireId, body, wireId === null ? d.method : undefined);
  }

  peekId(head: string): string | number | null {
    return ConnectPac.peekPacId(head);
  }

  deadlineMs(method: string): number {
    return method === ConnectPac.PAC_INBOUND.signatureVerificationRequest ? SIGNATURE_DEADLINE_MS : NOTIFICATION_DEADLINE_MS;
  }

  /**
   * Neither changes state in the request path's sense: a notification is an observation (true whoever relays it),
   * and a signature decision is taken once per transaction by its own first-writer-wins key, not by request id.
   */
  mutates(): boolean {
    return false;
  }

  /** None: a notification is published to the POS and a signature request waits for its decision. */
  readsOnly(): boolean {
    return false;
  }

  failure(id: string | number | null, kind: GatewayFailure, message: string, traceId: string): JsonRpcResponse {
    const code = kind === 'oversize' ? C.invalidRequest : C.internalError;
    return { jsonrpc: '2.0', id, error: { code, message, data: { traceId } } } as unknown as JsonRpcResponse;
  }

  outcome(response: JsonRpcResponse): { errorType?: string; platformFailure: boolean } {
    const r = response as unknown as PacResponse;
    if ('result' in r) return { platformFailure: false };
    const code = r.error.code;
    return { errorType: CODE_NAMES.get(code) ?? 'error', platformFailure: code === C.internalError };
  }
}
