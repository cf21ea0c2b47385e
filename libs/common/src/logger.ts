import type { Logger } from 'pino';
import pino from 'pino';
import type { LoggerService } from '@nestjs/common';

export type { Logger };

/** Field names whose values are never written to logs. */
const REDACT = [
  'apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'secret', '*.secret', 'token', '*.token', 'password', '*.password',
];

/** Top-level keys in REDACT: a renamed copy (token_2) is censored too. */
const SECRET_KEYS = new Set(REDACT.filter((p) => !p.includes('.')));

/**
 * Keys pino itself writes on every line (level label, ISO time). The message
 * key is handled apart: a call's own `msg` field is pino's message when no
 * message string is given, so it only clashes next to one (see logMethod).
 */
const RESERVED = ['level', 'time'] as const;
const MESSAGE_KEY = 'msg';

/**
 * What each logger already writes before a call's own fields: its base and the
 * bindings of it and every parent, plus pino's own keys. Keyed by logger
 * instance; filled when the root or a child is created.
 */
const boundKeys = new WeakMap<object, Map<string, unknown>>();

function boundOf(logger: Logger): Map<string, unknown> {
  let m = boundKeys.get(logger);
  if (!m) {
    // Not created through createLogger's child (should not happen): read what pino holds.
    m = new Map<string, unknown>(RESERVED.map((k) => [k, undefined]));
    for (const [k, v] of Object.entries(logger.bindings())) m.set(k, v);
    boundKeys.set(logger, m);
  }
  return m;
}

const EMPTY = new Map<string, unknown>();

function sameValue(a: unknown, b: unknown): boolean {
  return Object.is(a, b);
}

/**
 * `fields` without the keys `bound` already writes: an equal value is dropped,
 * a different one is kept under `<key>_2` (or _3, ...) so nothing is lost.
 * Returns `fields` itself, without copying, when nothing clashes (the usual case).
 */
function withoutBoundKeys(fields: Record<string, unknown>, bound: Map<string, unknown>, alsoTaken?: string): Record<string, unknown> {
  let clash = false;
  for (const k in fields) {
    if (bound.has(k) || k === alsoTaken) {
      clash = true;
      break;
    }
  }
  if (!clash) return fields;
  const out: Record<string, unknown> = {};
  for (const k in fields) {
    if (!Object.prototype.hasOwnProperty.call(fields, k)) continue;
    const v = fields[k];
    if (!bound.has(k) && k !== alsoTaken) {
      out[k] = v;
      continue;
    }
    if (v === undefined || (bound.has(k) && sameValue(bound.get(k), v))) continue;
    let n = 2;
    while (bound.has(`${k}_${n}`) || `${k}_${n}` in fields) n++;
    out[`${k}_${n}`] = SECRET_KEYS.has(k) ? '[redacted]' : v;
  }
  return out;
}

/**
 * `fields` with the context's keys that neither the logger's bindings nor the call's own fields write (those win):
 * a new object when a key is added, `fields` itself otherwise.
 */
function withContext(fields: Record<string, unknown>, ctx: Record<string, unknown> | undefined, bound: Map<string, unknown>): Record<string, unknown> {
  if (!ctx) return fields;
  let out: Record<string, unknown> | undefined;
  for (const k in ctx) {
    const v = ctx[k];
    if (v === undefined || bound.has(k) || k === MESSAGE_KEY || Object.prototype.hasOwnProperty.call(fields, k)) continue;
    out ??= {};
    out[k] = v;
  }
  return out ? Object.assign(out, fields) : fields;
}

export interface CreateLoggerOptions {
  /**
   * Fields of the work in progress, asked for on every line (e.g. the admin's request id, from an
   * AsyncLocalStorage): added to the line unless its logger's bindings or the call itself already write the key.
   * Undefined when no work is in progress.
   */
  context?: () => Record<string, unknown> | undefined;
}

/**
 * Structured JSON logs (one object per line). Request-scoped children carry
 * `rpcId`, `locationId` and `traceId` so every line of a request can be found.
 *
 * Every line is a JSON object with unique keys (strict log pipelines refuse
 * anything else). pino itself would write a key twice when a call's fields or a
 * child's bindings repeat a key already bound (or level/time, or msg beside a
 * message), so this
 * logger drops a repeated key whose value is the same and renames one whose
 * value differs (`key_2`). The check costs one map lookup per field.
 */
export function createLogger(app: string, level = 'info', destination?: pino.DestinationStream, opts: CreateLoggerOptions = {}): Logger {
  const { context } = opts;
  const options: pino.LoggerOptions = {
    level,
    base: { app, pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // The mixin hands the logger's bound keys to the merge strategy, which returns
    // the call's fields without them (the same object when nothing clashes).
    mixin: (_obj, _level, logger) => boundOf(logger),
    mixinMergeStrategy: context
      ? (fields, bound) => withContext(withoutBoundKeys(fields as Record<string, unknown>, bound as unknown as Map<string, unknown>), context(), bound as unknown as Map<string, unknown>)
      : (fields, bound) => withoutBoundKeys(fields as Record<string, unknown>, bound as unknown as Map<string, unknown>),
    hooks: {
      // log({ msg: 'a' }, 'b') would write msg twice: keep the field as msg_2.
      logMethod(args, method) {
        const first = args[0];
        if (args.length > 1 && typeof first === 'object' && first !== null && !(first instanceof Error) && Object.prototype.hasOwnProperty.call(first, MESSAGE_KEY)) {
          args[0] = withoutBoundKeys(first as Record<string, unknown>, EMPTY, MESSAGE_KEY);
        }
        return method.apply(this, args);
      },
    },
  };
  const root = destination ? pino(options, destination) : pino(options);
  boundKeys.set(root, new Map<string, unknown>([...RESERVED.map((k) => [k, undefined] as [string, unknown]), ['app', app], ['pid', process.pid]]));
  // Children are Object.create(parent), so every descendant inherits this child().
  // Taken unbound on purpose: it is called below with each descendant as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const pinoChild = root.child as unknown as (this: Logger, bindings: pino.Bindings, opts?: pino.ChildLoggerOptions) => Logger;
  const child = function (this: Logger, bindings: pino.Bindings, opts?: pino.ChildLoggerOptions): Logger {
    const bound = boundOf(this);
    const own = withoutBoundKeys(bindings, bound, MESSAGE_KEY);
    const c = pinoChild.call(this, own, opts);
    const mine = new Map(bound);
    for (const k in own) if (Object.prototype.hasOwnProperty.call(own, k) && own[k] !== undefined) mine.set(k, own[k]);
    boundKeys.set(c, mine);
    return c;
  };
  (root as unknown as { child: typeof child }).child = child;
  return root;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * A child logger that is bound only when it first writes a line or makes a child
 * of its own: for a request's logger, whose lines are mostly below the level (at
 * `warn` a request that goes well writes nothing). Binding a pino child serializes
 * its bindings and copies the bound keys; done for every request it was about 3%
 * of the in-process gateway's CPU at 200 requests/s. Levels that are off stay the
 * parent's no-ops; a line that is written carries `bindings()` as a child's would.
 */
export function lazyChild(parent: Logger, bindings: () => pino.Bindings): Logger {
  let bound: Logger | undefined;
  const real = (): Logger => (bound ??= parent.child(bindings()));
  const lazy = Object.create(parent) as Logger;
  for (const level of LEVELS) {
    if (!parent.isLevelEnabled(level)) continue; // inherited: pino's no-op for a level that is off
    const write: (...a: unknown[]) => void = function (this: unknown, ...args: unknown[]) {
      const target = real();
      Reflect.apply(target[level], target, args);
    };
    lazy[level] = write;
  }
  lazy.child = ((b: pino.Bindings, opts?: pino.ChildLoggerOptions) => real().child(b, opts)) as unknown as Logger['child'];
  lazy.bindings = () => real().bindings();
  return lazy;
}

/** Adapts a pino logger to Nest's LoggerService so framework messages share the format. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
