import { randomUUID } from 'node:crypto';
import type { ConnectPatSettings, JsonRpcResponse } from '@app/contracts';
import { ConnectPat, connectPatBaseUrl } from '@app/contracts';
import type { LocationConfig } from '../locations/location-config';
import { connectCodeNames, connectRejection } from './connect-common';
import type { ConnectionProfile, Decoded, GatewayFailure } from './connection-profile';

export const CONNECT_PAT_PROFILE = 'connect-pat';

const C = ConnectPat.PAT_ERROR_CODES;
/** Error codes by number, for bounded labels (metrics, the request record). */
const CODE_NAMES = connectCodeNames(C);

/** The request id given to a message that came without one (a notification); it is never sent back. */
const NOTIFICATION_PREFIX = 'notification:';
/** Notifications decoded and not yet answered, kept at most this many (the oldest forgotten first). */
const MAX_OPEN_NOTIFICATIONS = 10_000;

/** Deadlines [our choice: Connect's terminal timeouts are not published]. */
const READ_DEADLINE_MS = 5_000;
const CHANGE_DEADLINE_MS = 10_000;

type PatResponse = { jsonrpc: '2.0'; id: string | number | null; result: unknown } | { jsonrpc: '2.0'; id: string | number | null; error: ConnectPat.PatError & { data?: unknown } };

function settingsOf(location: LocationConfig): ConnectPatSettings {
  return (location.settings ?? {}) as unknown as ConnectPatSettings;
}

/**
 * Paymentsense Connect pay at table: the EPOS dials
 * `wss://<host>.connect.paymentsense.cloud/pat?token=…&api-version=v1&software-house-id=…&installer-id=…[&final-pos-receipt-request]`
 * (the token in the query, no auth header; a per-location URL override
 * replaces the host part, e.g. the sandbox), frames are decoded and answered
 * by the codec in libs/contracts connect-pat.ts, refusals are errorMessages,
 * Connect's own errorMessage is logged and never answered, and Connect's
 * "Connection Discontinued" (a newer PAT socket of the site took over) is
 * remembered so the link can tell a replaced link from a network drop.
 *
 * Every message is handled in the order it arrived (`ordered`: the next waits
 * until the previous one is answered). A terminal may send a payment as a
 * notification and ask for the final receipt at once, or unlock right after
 * reporting its payments; the payment goes to a worker through the queue while
 * a receipt is a read the gateway answers itself, so without the line the
 * receipt could be printed from the bill before the payment is recorded, and
 * the table unlocked before it is paid. The line costs little here: Connect
 * serves one PAT socket per site and its terminals' messages are paced by
 * people, and a read waiting behind a change has to see that change anyway.
 * A message stuck in front holds the others up to its deadline (10 s).
 */
export class ConnectPatProfile implements ConnectionProfile {
  readonly name = CONNECT_PAT_PROFILE;
  readonly dialect = CONNECT_PAT_PROFILE;
  /** Locations whose current socket Connect said was discontinued (read once by the link when it closes). */
  private readonly discontinued = new Set<string>();
  /** The request ids this profile gave notifications, with their message (for the errorMessage that may answer one). */
  private readonly notifications = new Map<string, string>();

  buildUrl(location: LocationConfig): string {
    const s = settingsOf(location);
    const base = location.wsUrl ?? connectPatBaseUrl(s);
    return ConnectPat.connectPatUrl(base, {
      token: location.apiKey ?? '',
      softwareHouseId: location.softwareHouseId,
      installerId: s.installerId,
      finalPosReceiptRequest: s.finalPosReceiptRequest === true,
    });
  }

  handshakeHeaders(): Record<string, string> {
    return {};
  }

  decode(text: string, location: LocationConfig): Decoded {
    const d = ConnectPat.decodePatFrame(text, { finalReceipt: settingsOf(location).finalPosReceiptRequest === true });
    if (d.kind === 'notice') {
      const replaced = /connection discontinued/i.test(d.error.message);
      if (replaced) this.discontinued.add(location.id);
      return {
        kind: 'ignore',
        message: replaced ? 'Connect discontinued this PAT connection: a newer one for the site took over' : 'errorMessage from Connect',
        fields: { code: d.error.code, errorMessage: d.error.message.slice(0, 200), inReplyTo: d.id },
      };
    }
    if (d.kind === 'reject') return connectRejection(d, CODE_NAMES);
    if (d.id !== null) return { kind: 'request', id: d.id, method: d.method, params: d.params, ordered: true };
    const id = `${NOTIFICATION_PREFIX}${randomUUID()}`;
    this.notifications.set(id, d.method);
    if (this.notifications.size > MAX_OPEN_NOTIFICATIONS) this.notifications.delete(this.notifications.keys().next().value!);
    return { kind: 'request', id, method: d.method, params: d.params, ordered: true };
  }

  /**
   * The answer as Connect's frame. A notification's success is not sent
   * (undefined); its refusal goes out as an errorMessage notification.
   */
  encode(response: JsonRpcResponse, id: string | number | null): string | undefined {
    const r = response as unknown as PatResponse;
    const notified = typeof id === 'string' ? this.notifications.get(id) : undefined;
    if (notified !== undefined) this.notifications.delete(id as string);
    if ('result' in r) return notified !== undefined ? undefined : ConnectPat.encodePatResult(id!, r.result);
    const { data, ...error } = r.error;
    const d = (data ?? {}) as { method?: string; traceId?: string };
    const body = d.traceId ? { ...error, data: { traceId: d.traceId } } : error;
    if (notified !== undefined || id === null) return ConnectPat.encodePatError(null, body, notified ?? d.method);
    return ConnectPat.encodePatError(id, body);
  }

  peekId(head: string): string | number | null {
    return ConnectPat.peekPatId(head);
  }

  deadlineMs(method: string): number {
    return (ConnectPat.PAT_MUTATING as readonly string[]).includes(method) ? CHANGE_DEADLINE_MS : READ_DEADLINE_MS;
  }

  mutates(method: string): boolean {
    return (ConnectPat.PAT_MUTATING as readonly string[]).includes(method);
  }

  readsOnly(method: string): boolean {
    return ConnectPat.isPatMethod(method) && !this.mutates(method);
  }

  failure(id: string | number | null, kind: GatewayFailure, message: string, traceId: string): JsonRpcResponse {
    const code = kind === 'oversize' ? C.invalidRequest : kind === 'deadline' ? C.timeout : C.internalError;
    const error: ConnectPat.PatError = kind === 'oversize' ? { code, message } : { code, message, userMessage: 'The till could not answer; please try again' };
    return { jsonrpc: '2.0', id, error: { ...error, data: { traceId } } } as unknown as JsonRpcResponse;
  }

  outcome(response: JsonRpcResponse): { errorType?: string; platformFailure: boolean } {
    const r = response as unknown as PatResponse;
    if ('result' in r) return { platformFailure: false };
    const code = r.error.code;
    return { errorType: CODE_NAMES.get(code) ?? 'error', platformFailure: code === C.internalError || code === C.timeout };
  }

  /** Whether Connect discontinued the location's socket (its errorMessage, or the close reason), then forgets it. */
  takeReplaced(locationId: string, closeReason: string): boolean {
    const noticed = this.discontinued.delete(locationId);
    return noticed || /connection discontinued/i.test(closeReason);
  }
}
