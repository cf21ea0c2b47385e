import { randomUUID } from 'node:crypto';
import type { EposErrorType, EposMethod, JsonRpcResponse, TablesAnsweredMethod, TablesErrorCode } from '@app/contracts';
import { contractValidator, validateTablesReply } from '@app/contracts';
import type { Logger } from '@app/common';
import type { AccountRegistry } from '../accounts';
import type { EposHub } from '../epos-hub';
import type { PatHub } from '../pat-hub';
import type { PacHub } from '../pac-hub';
import { CallTimeoutError } from '../epos-hub';
import type { Misbehaviour, StepResult } from '../types';
import type { WebhookSender } from '../webhooks';

/** Everything a flow may use. */
export interface FlowDeps {
  hub: EposHub;
  /** Connect's pay-at-table endpoint (/pat). */
  pat?: PatHub;
  /** Connect's pay-at-counter endpoint (/pac) and its virtual terminals. */
  pac?: PacHub;
  accounts: AccountRegistry;
  webhooks: WebhookSender;
  misbehaviour: Misbehaviour;
  logger: Logger;
  callTimeoutMs: number;
  /** Aborted when the sandbox closes: a flow stops at its next step, and a step that waits stops waiting. */
  signal?: AbortSignal;
}

/** The message of a flow's last step when the sandbox closes under it. */
const CLOSING = 'the sandbox is closing';

/** Thrown inside a step's summary function when the reply is contract-valid but wrong for the flow. */
export class StepCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepCheckError';
  }
}

/** Ends the flow; the failing step already carries the message. */
export class FlowStopped extends Error {
  constructor(readonly status: 'FAILURE' | 'TIMED_OUT') {
    super(`flow stopped (${status})`);
    this.name = 'FlowStopped';
  }
}

export interface RpcStep<R> {
  /** Step name; the method by default. */
  name?: string;
  method: EposMethod;
  /** Request params without `headers` (added from the flow's device headers). */
  params: Record<string, unknown>;
  /** One readable line from the result, e.g. 'locked order ord_1 until 12:00:30Z'; may throw StepCheckError. */
  summary: (result: R) => string;
  /** The step expects this error type instead of a result. */
  expectError?: EposErrorType;
}

/** One Tables API call of a flow (the legacy pay-at-table dialect: errors come inside `result`). */
export interface TablesStep<R> {
  name?: string;
  method: TablesAnsweredMethod;
  /** Params besides requestorInfo (added from the flow's terminal). */
  params: Record<string, unknown>;
  summary: (result: R) => string;
  /** The step expects this error code instead of a result. */
  expectError?: TablesErrorCode;
}

const HH_MM_SS = (iso: string) => iso.replace(/^.*T/, '').replace(/\.\d+Z$/, 'Z');
export const clock = HH_MM_SS;

export function money(m: { value: number; currencyCode: string } | undefined): string {
  if (!m) return '(none)';
  return `${(m.value / 100).toFixed(2)} ${m.currencyCode}`;
}

/**
 * One flow run: records steps as the tester tool reports them (name, status,
 * additionalInformation, startedAt/finishedAt) plus the method and duration.
 * Every reply is validated against the AsyncAPI contract first; a failure
 * names the method, the field and the reason.
 */
export class FlowContext {
  constructor(
    readonly deps: FlowDeps,
    readonly accountId: string,
    readonly steps: StepResult[],
    readonly headers: Record<string, string>,
    private readonly onChange: () => void,
  ) {}

  /** Aborted when the sandbox closes (see FlowDeps.signal). */
  get signal(): AbortSignal | undefined {
    return this.deps.signal;
  }

  /** A signal for a call outside the sandbox (fetch): aborted after `ms`, or when the sandbox closes. */
  timeout(ms: number): AbortSignal {
    const t = AbortSignal.timeout(ms);
    return this.deps.signal ? AbortSignal.any([t, this.deps.signal]) : t;
  }

  /** A step may not start once the sandbox is closing: the flow stops with it. */
  private stopIfClosing(name: string, method?: string): void {
    if (!this.deps.signal?.aborted) return;
    const step = this.begin(name, method);
    this.end(step, performance.now(), 'FAILURE', [CLOSING]);
    throw new FlowStopped('FAILURE');
  }

  /** `work`, or a rejection as soon as the sandbox closes (the work itself is left to end on its own). */
  private untilClosed<T>(work: Promise<T>): Promise<T> {
    const signal = this.deps.signal;
    if (!signal) return work;
    let onAbort: (() => void) | undefined;
    const closed = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Error(CLOSING));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    return Promise.race([work, closed]).finally(() => signal.removeEventListener('abort', onAbort!));
  }

  newId(prefix: string): string {
    return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  }

  private begin(name: string, method?: string): StepResult {
    const step: StepResult = { name, status: 'IN_PROGRESS', additionalInformation: [], startedAt: new Date().toISOString(), method };
    this.steps.push(step);
    this.onChange();
    return step;
  }

  private end(step: StepResult, t0: number, status: StepResult['status'], info: string[]): void {
    step.status = status;
    step.additionalInformation.push(...info);
    step.finishedAt = new Date().toISOString();
    step.ms = Math.round((performance.now() - t0) * 10) / 10;
    this.onChange();
  }

  /** Sends one method to the EPOS, validates the reply, and returns `result`; stops the flow on any failure. */
  async rpc<R>(s: RpcStep<R>): Promise<R> {
    this.stopIfClosing(s.name ?? s.method, s.method);
    const step = this.begin(s.name ?? s.method, s.method);
    const t0 = performance.now();
    let reply: JsonRpcResponse;
    try {
      reply = await this.deps.hub.call(this.accountId, s.method, { ...s.params, headers: this.headers }, { timeoutMs: this.deps.callTimeoutMs });
    } catch (err) {
      const timedOut = err instanceof CallTimeoutError;
      this.end(step, t0, timedOut ? 'TIMED_OUT' : 'FAILURE', [(err as Error).message]);
      throw new FlowStopped(timedOut ? 'TIMED_OUT' : 'FAILURE');
    }
    const v = contractValidator().validateResponse(s.method, reply);
    if (!v.ok) {
      this.end(step, t0, 'FAILURE', [`${s.method} response breaks the contract: ${v.field} ${v.reason}`]);
      throw new FlowStopped('FAILURE');
    }
    const error = (reply as { error?: { errorType: string; debugMessage?: string } }).error;
    if (s.expectError) {
      if (error?.errorType === s.expectError) {
        this.end(step, t0, 'SUCCESS', [`${s.expectError} as expected${error.debugMessage ? `: ${error.debugMessage}` : ''}`]);
        return undefined as R;
      }
      const got = error ? `${error.errorType}` : 'a result';
      this.end(step, t0, 'FAILURE', [`${s.method} should have answered ${s.expectError} but returned ${got}`]);
      throw new FlowStopped('FAILURE');
    }
    if (error) {
      this.end(step, t0, 'FAILURE', [`${s.method} returned ${error.errorType}${error.debugMessage ? `: ${error.debugMessage}` : ''}`]);
      throw new FlowStopped('FAILURE');
    }
    const result = (reply as { result: R }).result;
    let summary: string;
    try {
      summary = s.summary(result);
    } catch (err) {
      this.end(step, t0, 'FAILURE', [`${s.method}: ${(err as Error).message}`]);
      throw new FlowStopped('FAILURE');
    }
    this.end(step, t0, 'SUCCESS', [summary]);
    return result;
  }

  /**
   * Sends one Tables API method, checks the reply against the Tables answer shapes (validateTablesReply: a
   * corrupted field fails the step naming the method and the field) and returns `result`; stops the flow on any
   * failure, an error result included unless expected.
   */
  async tablesRpc<R>(s: TablesStep<R>, requestorInfo: Record<string, unknown>): Promise<R> {
    this.stopIfClosing(s.name ?? s.method, s.method);
    const step = this.begin(s.name ?? s.method, s.method);
    const t0 = performance.now();
    let reply: JsonRpcResponse;
    try {
      reply = await this.deps.hub.call(this.accountId, s.method, { requestorInfo, ...s.params }, { timeoutMs: this.deps.callTimeoutMs });
    } catch (err) {
      const timedOut = err instanceof CallTimeoutError;
      this.end(step, t0, timedOut ? 'TIMED_OUT' : 'FAILURE', [(err as Error).message]);
      throw new FlowStopped(timedOut ? 'TIMED_OUT' : 'FAILURE');
    }
    const v = validateTablesReply(s.method, reply);
    if (!v.ok) {
      this.end(step, t0, 'FAILURE', [`${s.method} reply breaks the Tables API: ${v.field} ${v.reason}`]);
      throw new FlowStopped('FAILURE');
    }
    if (s.expectError || v.error) {
      const ok = v.error?.errorCode === s.expectError;
      const got = v.error ? `${v.error.errorCode}: ${v.error.errorReason}` : 'a result';
      this.end(step, t0, ok ? 'SUCCESS' : 'FAILURE', [ok ? `${s.expectError} as expected` : `${s.method} returned ${got}${s.expectError ? ` instead of ${s.expectError}` : ''}`]);
      if (!ok) throw new FlowStopped('FAILURE');
      return undefined as R;
    }
    const result = (reply as { result: R }).result;
    let summary: string;
    try {
      summary = s.summary(result);
    } catch (err) {
      this.end(step, t0, 'FAILURE', [`${s.method}: ${(err as Error).message}`]);
      throw new FlowStopped('FAILURE');
    }
    this.end(step, t0, 'SUCCESS', [summary]);
    return result;
  }

  /** A non-RPC step (e.g. a webhook delivery). `fn` returns the summary or throws StepCheckError. */
  async task<T>(name: string, fn: () => Promise<{ value: T; summary: string }>, method?: string): Promise<T> {
    this.stopIfClosing(name, method);
    const step = this.begin(name, method);
    const t0 = performance.now();
    try {
      const { value, summary } = await this.untilClosed(fn());
      this.end(step, t0, 'SUCCESS', [summary]);
      return value;
    } catch (err) {
      const timedOut = err instanceof CallTimeoutError;
      this.end(step, t0, timedOut ? 'TIMED_OUT' : 'FAILURE', [(err as Error).message]);
      throw new FlowStopped(timedOut ? 'TIMED_OUT' : 'FAILURE');
    }
  }

  /** Adds a note to the flow as a successful zero-length step. */
  note(name: string, text: string): void {
    const step = this.begin(name);
    this.end(step, performance.now(), 'SUCCESS', [text]);
  }
}
