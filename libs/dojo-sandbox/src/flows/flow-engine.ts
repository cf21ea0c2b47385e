import { randomUUID } from 'node:crypto';
import { SandboxInputError } from '../accounts';
import type { FlowDescription, FlowResult } from '../types';
import type { FlowDeps } from './flow-context';
import { FlowContext, FlowStopped } from './flow-context';
import type { FlowDefinition } from './flow-definition';

const MAX_KEPT = 1000;

/** Starts flows, keeps their results (GET /flows/{id}), and lists the catalogue (GET /flows). */
export class FlowEngine {
  private readonly results = new Map<string, FlowResult>();
  private readonly running = new Map<string, Promise<FlowResult>>();

  constructor(
    private readonly catalogue: Record<string, FlowDefinition>,
    private readonly deps: FlowDeps,
  ) {}

  describe(): FlowDescription[] {
    return Object.values(this.catalogue).map((f) => ({ name: f.name, description: f.description, params: f.params }));
  }

  get(flowId: string): FlowResult | undefined {
    return this.results.get(flowId);
  }

  /** Validates and coerces params (strings from a CLI become numbers/booleans). */
  private checkParams(def: FlowDefinition, raw: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...raw };
    const errors: Record<string, string[]> = {};
    for (const p of def.params) {
      let v = raw[p.name];
      if (v === undefined || v === null || v === '') {
        if (p.required) errors[p.name] = ['is required'];
        delete out[p.name];
        continue;
      }
      if (p.type === 'integer') {
        v = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
        if (!Number.isInteger(v)) errors[p.name] = ['must be an integer'];
      } else if (p.type === 'boolean') {
        v = v === 'true' ? true : v === 'false' ? false : v;
        if (typeof v !== 'boolean') errors[p.name] = ['must be true or false'];
      } else if (typeof v !== 'string') errors[p.name] = ['must be a string'];
      out[p.name] = v;
    }
    if (Object.keys(errors).length) throw new SandboxInputError(`invalid params for flow ${def.name}`, errors);
    return out;
  }

  /** Starts a flow in the background and returns its id (POST /flows). */
  start(name: string, rawParams: Record<string, unknown> = {}): string {
    const def = this.catalogue[name];
    if (!def) throw new SandboxInputError(`unknown flow ${name}`, { flow: [`must be one of ${Object.keys(this.catalogue).join(', ')}`] });
    const params = this.checkParams(def, rawParams);
    const accountId = String(params.accountId);
    this.deps.accounts.require(accountId);
    const result: FlowResult = {
      flowID: randomUUID(),
      flowName: name,
      status: 'IN_PROGRESS',
      startedAt: new Date().toISOString(),
      // Tokens a flow is given (venueToken) are not shown in its result.
      params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, /token$/i.test(k) ? '***' : v])),
      steps: [],
    };
    this.results.set(result.flowID, result);
    if (this.results.size > MAX_KEPT) this.results.delete(this.results.keys().next().value as string);
    const ctx = new FlowContext(this.deps, accountId, result.steps, def.headers, () => undefined);
    const log = this.deps.logger.child({ locationId: accountId, flowId: result.flowID, flow: name });
    log.info('flow started');
    const done = def
      .run(ctx, params)
      .then(() => {
        result.status = 'SUCCESS';
      })
      .catch((err: unknown) => {
        if (err instanceof FlowStopped) result.status = err.status;
        else {
          result.status = 'FAILURE';
          result.steps.push({
            name: 'flow',
            status: 'FAILURE',
            additionalInformation: [`sandbox error: ${(err as Error).message}`],
            startedAt: new Date().toISOString(),
            finishedAt: new Date().toISOString(),
          });
        }
      })
      .then(() => {
        result.finishedAt = new Date().toISOString();
        this.running.delete(result.flowID);
        const failed = result.steps.find((s) => s.status !== 'SUCCESS');
        log.info({ status: result.status, failedStep: failed?.name, reason: failed?.additionalInformation[0] }, 'flow finished');
        return result;
      });
    this.running.set(result.flowID, done);
    return result.flowID;
  }

  /** Runs a flow to the end and returns its result. */
  async run(name: string, params: Record<string, unknown> = {}): Promise<FlowResult> {
    const id = this.start(name, params);
    return (await this.running.get(id)) ?? this.results.get(id)!;
  }

  /** Waits for the running flows to end, for at most `limitMs` when given. */
  async drain(limitMs?: number): Promise<void> {
    const all = Promise.allSettled([...this.running.values()]);
    if (limitMs === undefined) {
      await all;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, limitMs)))]);
    clearTimeout(timer);
  }
}
