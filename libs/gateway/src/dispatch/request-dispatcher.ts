import type { JsonRpcResponse } from '@app/contracts';
import { newTraceId, redactSecretsInText } from '@app/contracts';
import type { RequestLogEntry, RpcJob } from '@app/queue';
import type { Logger } from '@app/common';
import type { ConnectionProfile, DecodedReply } from '../profiles/connection-profile';
import type { LocationConfig } from '../locations/location-config';
import type { RememberedReply } from './reply-cache';
import { ReplyCache } from './reply-cache';
import type { ReadCacheHooks } from './read-cache';
import { gatewayMetrics } from '@app/common';
import type { MethodMetrics } from '../metrics';
import { methodMetrics } from '../metrics';

/** Requests refused at the edge (oversize, not decodable, invalid, batches) are counted under this method name. */
const INVALID = 'invalid';

/** What the dispatcher needs from the request path (RpcClient in production). */
export interface RpcCaller {
  /**
   * Runs the job on a worker. `failure` words the caller's own error (the
   * deadline passed, the job could not be queued) in the profile's error form.
   */
  call(job: Omit<RpcJob, 'replyTo'>, failure?: (message: string) => JsonRpcResponse): Promise<JsonRpcResponse>;
}

export interface DispatchOptions {
  maxMessageBytes: number;
  /** How long answered ids are remembered per location (0 = only join in-flight duplicates). */
  replyCacheMs: number;
  /** When > 0, replaces every method's deadline. */
  deadlineOverrideMs: number;
}

/** Called once per answered frame with what the per-location request record keeps. */
export type RequestRecorder = (locationId: string, entry: RequestLogEntry) => void;

type Outcome = 'ok' | 'error' | 'failed' | 'duplicate' | 'invalid';

/** What answer() learnt about the request: for the metrics and the request record. */
interface Seen {
  method: string | null;
  rpcId: string | null;
  errorType?: string;
  /** Counted in epos_relay_gateway_requests_total. */
  outcome: Outcome;
  metrics: MethodMetrics;
}

export interface DispatchContext {
  location: LocationConfig;
  /** Fencing token of this replica's lease on the location, passed to the worker. */
  fence: number;
  profile: ConnectionProfile;
  receivedAt: number;
  /** Where a reply to a request this side sent goes (the counter pump of a PAC link). */
  onReply?: (reply: DecodedReply) => void;
}

/**
 * Turns one incoming frame into one reply: size check, decode and contract
 * validation (by the profile), de-duplication by JSON-RPC id, the worker call
 * with its deadline, and encoding. Never throws: every failure becomes an
 * error reply, so a bad message cannot harm the link or other requests.
 */
export class RequestDispatcher {
  private readonly caches = new Map<string, ReplyCache>();
  /** Per line (a location, or a location and a key: `orderedBy`), the last ordered request's completion (takeTurn). */
  private readonly ordered = new Map<string, Promise<void>>();
  private draining = false;
  private readonly invalid: MethodMetrics = methodMetrics(INVALID);
  private readonly inFlightGauge = gatewayMetrics().inFlight;

  /**
   * `rpc` answers every request, or, with `reads` given, every request but those its profile says only read
   * (ConnectionProfile.readsOnly), which `reads` answers (GATEWAY_READS=local: this process, against Postgres).
   */
  constructor(
    private readonly rpc: RpcCaller,
    private readonly opts: DispatchOptions,
    private readonly logger: Logger,
    private readonly recorder?: RequestRecorder,
    private readonly reads?: RpcCaller,
    /** GATEWAY_READ_CACHE: told of every answer that may have changed a location, before Dojo sees it. */
    private readonly readCache?: ReadCacheHooks,
  ) {}

  /** After this, new requests are refused (retryable) while in-flight ones finish; a retried id in flight or answered is served as before. */
  drain(): void {
    this.draining = true;
  }

  get inFlight(): number {
    let n = 0;
    for (const c of this.caches.values()) n += c.inflightCount;
    return n;
  }

  /**
   * A place in a line of ordered requests (a location's, or its requests with one key: the Tables API's sessions):
   * `ready` once every earlier one was answered; `done` lets the next one go. Connect PAC's terminal notifications
   * are ordered, so the POS sees the terminal's progress in order even though the workers run requests concurrently;
   * so are Connect PAT's messages, so a read the gateway answers itself (a receipt) never overtakes a change still on
   * its way to a worker (the payment before it); and the Tables API's requests about one session, for the same reason.
   */
  private takeTurn(line: string): { ready: Promise<void>; done: () => void } {
    const prev = this.ordered.get(line);
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    this.ordered.set(line, mine);
    return {
      ready: prev ?? Promise.resolve(),
      done: () => {
        done();
        if (this.ordered.get(line) === mine) this.ordered.delete(line);
      },
    };
  }

  /** The location's lease was taken on this replica (the read cache's grace starts now). */
  owned(locationId: string): void {
    this.readCache?.owned(locationId);
  }

  /** Frees a location's reply cache once its link is closed for good on this replica. */
  forget(locationId: string): void {
    this.caches.delete(locationId);
    this.readCache?.forget(locationId);
  }

  private cache(locationId: string): ReplyCache {
    let c = this.caches.get(locationId);
    if (!c) this.caches.set(locationId, (c = new ReplyCache(this.opts.replyCacheMs)));
    return c;
  }

  /** Returns the encoded reply for `data`, or undefined when nothing should be sent. */
  async handle(ctx: DispatchContext, data: Buffer): Promise<string | undefined> {
    const t0 = performance.now();
    const traceId = newTraceId();
    const seen: Seen = { method: null, rpcId: null, outcome: 'invalid', metrics: this.invalid };
    const text = await this.answer(ctx, data, traceId, seen);
    // Counted once the reply is ready (epos_relay_gateway_requests_total / _request_duration_seconds).
    seen.metrics.outcome[seen.outcome].inc();
    seen.metrics.duration.observe((performance.now() - t0) / 1000);
    if (this.recorder) {
      try {
        this.recorder(ctx.location.id, {
          at: new Date(ctx.receivedAt).toISOString(),
          method: seen.method,
          rpcId: seen.rpcId,
          ms: Date.now() - ctx.receivedAt,
          outcome: seen.errorType ? 'error' : 'ok',
          ...(seen.errorType ? { errorType: seen.errorType } : {}),
          traceId,
        });
      } catch (err) {
        // The record is diagnostic only: a failure to keep it must not touch the reply.
        this.logger.debug({ err: (err as Error).message }, 'request record not kept');
      }
    }
    return text;
  }

  private async answer(ctx: DispatchContext, data: Buffer, traceId: string, seen: Seen): Promise<string | undefined> {
    const { location, profile } = ctx;
    try {
      if (data.length > this.opts.maxMessageBytes) {
        const id = profile.peekId(data.subarray(0, 512).toString('utf8'));
        seen.rpcId = id == null ? null : String(id);
        const response = profile.failure(id, 'oversize', `the message is ${data.length} bytes; the limit is ${this.opts.maxMessageBytes}`, traceId);
        seen.errorType = profile.outcome(response).errorType;
        this.logger.warn({ locationId: location.id, rpcId: id, traceId, bytes: data.length }, 'oversize message refused');
        return profile.encode(response, id);
      }
      const decoded = profile.decode(data.toString('utf8'), location);
      if (decoded.kind === 'ignore') {
        seen.method = 'ignored';
        seen.outcome = 'ok';
        this.logger.warn({ locationId: location.id, traceId, protocol: profile.name, ...decoded.fields }, decoded.message);
        return undefined;
      }
      if (decoded.kind === 'reply') {
        seen.method = 'reply';
        seen.rpcId = String(decoded.id);
        seen.outcome = 'ok';
        if (!ctx.onReply) {
          this.logger.warn({ locationId: location.id, traceId, rpcId: decoded.id, protocol: profile.name }, 'a reply to no request of ours: dropped');
          return undefined;
        }
        // In line with the ordered requests: the notifications that came before a transaction's reply are stored
        // while it is still open, before its outcome is handed on (and settled).
        const turn = this.takeTurn(location.id);
        await turn.ready;
        try {
          ctx.onReply(decoded);
        } finally {
          turn.done();
        }
        return undefined;
      }
      if (decoded.kind === 'reject') {
        seen.rpcId = decoded.id == null ? null : String(decoded.id);
        seen.errorType = decoded.errorType;
        this.logger.info(
          { locationId: location.id, rpcId: decoded.id, traceId, errorType: decoded.errorType },
          `request refused: ${redactSecretsInText(decoded.reason)}`,
        );
        return profile.encode(decoded.response(traceId), decoded.id);
      }
      if (decoded.kind === 'batch') {
        seen.method = 'batch';
        seen.errorType = decoded.errorType;
        this.logger.info({ locationId: location.id, traceId, elements: decoded.replies.length }, 'JSON-RPC batch refused element by element');
        return `[${decoded.replies.map((r) => profile.encode(r.response(traceId), r.id)).filter((f) => f !== undefined).join(',')}]`;
      }
      const { id, method } = decoded;
      const rpcId = String(id);
      seen.method = method;
      seen.rpcId = rpcId;
      seen.metrics = methodMetrics(method);
      // The request's child logger is made only when a line is written (at LOG_LEVEL=warn most requests write none).
      let child: Logger | undefined;
      const log = () => (child ??= this.logger.child({ locationId: location.id, rpcId, traceId, method }));
      const infoOn = this.logger.isLevelEnabled('info');
      const cache = this.cache(location.id);
      // Ids are per dialect: a profile switch never answers one dialect's id with another's reply. The method is part
      // of the key: an id reused for another request (a HandleEventV1 after a SearchOrdersV1) is never answered with
      // the earlier reply; it goes on, and the worker refuses a changing request's reused id itself.
      const key = `${profile.dialect}:${method}:${typeof id}:${rpcId}`;
      const cached = cache.cached(key);
      if (cached) {
        if (infoOn) log().info('duplicate of a recently answered id: same reply');
        seen.outcome = 'duplicate';
        seen.errorType = cached.errorType;
        return cached.text;
      }
      const pending = cache.pending(key);
      if (pending) {
        if (infoOn) log().info('duplicate of an id in flight: joining it');
        seen.outcome = 'duplicate';
        const response = await pending;
        seen.errorType = profile.outcome(response).errorType;
        return profile.encode(response, id);
      }
      // Only a new id is refused while draining: a retry of one answered or in flight above may have been applied,
      // and its answer must not say that nothing was.
      if (this.draining) {
        if (infoOn) log().info('request refused: replica shutting down');
        seen.outcome = 'failed';
        const response = profile.failure(id, 'draining', 'the EPOS gateway is restarting; nothing was applied, please retry', traceId);
        seen.errorType = profile.outcome(response).errorType;
        return profile.encode(response, id);
      }
      const deadlineMs = this.opts.deadlineOverrideMs > 0 ? this.opts.deadlineOverrideMs : profile.deadlineMs(method);
      // An ordered request waits for the location's previous ordered one to be answered, one ordered by a key for the
      // previous one with that key (each wait bounded by the earlier request's deadline).
      const line = decoded.ordered ? location.id : decoded.orderedBy !== undefined ? `${location.id}\u0000${decoded.orderedBy}` : undefined;
      // Anything not answered here as a read may have changed the location's orders (GATEWAY_READ_CACHE).
      const local = this.reads !== undefined && profile.readsOnly(method);
      const changes = !local;
      const caller = local ? this.reads : this.rpc;
      // Taken once the lookups above are done, so that none of them can leave it held; the finally below gives it back.
      const turn = line !== undefined ? this.takeTurn(line) : undefined;
      const call = () =>
        caller.call(
          {
            locationId: location.id,
            dialect: profile.dialect,
            method,
            mutates: profile.mutates(method),
            rpcId,
            params: decoded.params,
            // The protocol's non-secret settings the dialect reads (none for epos-data: the job stays as it was).
            ...(location.settings && Object.keys(location.settings).length > 0 ? { settings: location.settings } : {}),
            deadline: ctx.receivedAt + deadlineMs,
            traceId,
            fence: ctx.fence,
          },
          (message) => profile.failure(rpcId, 'deadline', message, traceId),
        );
      // An ordered request is tracked while it still waits for its turn, so a duplicate of its id that arrives
      // meanwhile joins it (above) rather than taking a second turn. A call that throws there is a rejected promise,
      // answered below like any failed call, and the turn is given back in the finally.
      const p: Promise<JsonRpcResponse> = turn ? turn.ready.then(call) : call();
      cache.track(key, p);
      this.inFlightGauge.inc();
      let response: JsonRpcResponse;
      try {
        response = await p;
      } catch (err) {
        log().error({ err: (err as Error).message }, 'request path failed');
        response = profile.failure(rpcId, 'unexpected', 'the EPOS could not complete the request; it was not applied', traceId);
      } finally {
        this.inFlightGauge.dec();
        turn?.done();
        // Before Dojo has the answer, so its next read is not served what the cache held before the change.
        if (changes) this.readCache?.changed(location.id);
      }
      const o = profile.outcome(response);
      seen.outcome = o.errorType === undefined ? 'ok' : o.platformFailure ? 'failed' : 'error';
      seen.errorType = o.errorType;
      // Settled whatever encode does, so the id never stays "in flight"; a failure of the platform itself
      // (deadline, queue down) committed nothing and is not remembered: Dojo's retry runs again.
      let remembered: RememberedReply | undefined;
      try {
        const text = profile.encode(response, id);
        if (!o.platformFailure) remembered = { text, errorType: o.errorType };
        if (infoOn) log().info({ ms: Date.now() - ctx.receivedAt, ok: o.errorType === undefined }, 'request answered');
        return text;
      } finally {
        cache.settle(key, remembered);
      }
    } catch (err) {
      seen.outcome = 'failed';
      this.logger.error({ locationId: location.id, traceId, err: redactSecretsInText((err as Error).message) }, 'dispatch failed');
      const response = profile.failure(null, 'unexpected', 'the EPOS could not complete the request; it was not applied', traceId);
      seen.errorType = profile.outcome(response).errorType;
      return profile.encode(response, null);
    }
  }
}
