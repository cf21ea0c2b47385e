import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUuid } from './uuid';

/** The header a request id comes in (from a proxy or the caller) and goes back out in. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** A caller's id we keep: 1 to 128 printable ASCII characters, no spaces (it goes into a header and every log line). */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The incoming x-request-id when sane, else a new UUID. A repeated header (an array) is not sane. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/** What Express has put on a request once a route matched: the route's template and its params. */
interface RoutedRequest extends IncomingMessage {
  route?: { path?: unknown };
  params?: Record<string, unknown>;
}

/** The location a routed request is about, from its params and route template (undefined when none). */
export type LocationOfRequest = (params: Record<string, unknown>, route: string) => string | undefined;

/**
 * One HTTP request's identity for its log lines: its id, method, and, once Express has routed it, the route's
 * template (never the raw URL) and the location its params name. Read when a line is written, so a line of the
 * handler carries what the router learnt after the scope began.
 */
export class RequestScope {
  /** False once the response closed: a line written later (a connection made during the request and kept) is not the request's. */
  open = true;

  constructor(
    readonly requestId: string,
    private readonly req: RoutedRequest,
    private readonly locationOf?: LocationOfRequest,
  ) {}

  fields(): Record<string, unknown> {
    const route = typeof this.req.route?.path === 'string' ? this.req.route.path : undefined;
    const locationId = route !== undefined && this.req.params && this.locationOf ? this.locationOf(this.req.params, route) : undefined;
    return {
      requestId: this.requestId,
      method: this.req.method,
      ...(route !== undefined ? { route } : {}),
      ...(locationId !== undefined ? { locationId } : {}),
    };
  }
}

const scopes = new AsyncLocalStorage<RequestScope>();
const scopeOfRequest = new WeakMap<IncomingMessage, RequestScope>();

/**
 * Express middleware (first in line): gives each request its id (the caller's x-request-id when sane, else a new
 * one), answers it in the x-request-id header, and runs the rest of the request in its scope, so that a logger
 * made with `context: requestLogFields` writes the request's fields on every line of it.
 */
export function bindRequestScope(locationOf?: LocationOfRequest) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const scope = new RequestScope(requestIdFrom(req.headers[REQUEST_ID_HEADER]), req, locationOf);
    scopeOfRequest.set(req, scope);
    res.setHeader(REQUEST_ID_HEADER, scope.requestId);
    res.once('close', () => (scope.open = false));
    scopes.run(scope, next);
  };
}

/** The scope `bindRequestScope` gave this request (undefined for a request it did not see). */
export function requestScopeOf(req: IncomingMessage): RequestScope | undefined {
  return scopeOfRequest.get(req);
}

/** The fields of the request whose work is running now (a logger's `context`); undefined outside an open request. */
export function requestLogFields(): Record<string, unknown> | undefined {
  const scope = scopes.getStore();
  return scope?.open ? scope.fields() : undefined;
}

/** `value` when it is a UUID (a location id as routes carry it), else undefined: nothing else from a URL goes into a log line. */
export function uuidOrUndefined(value: unknown): string | undefined {
  return isUuid(value) ? value : undefined;
}
