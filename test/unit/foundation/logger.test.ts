import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, lazyChild, NestPinoLogger, requestIdFrom } from '@app/common';
import { parseStrictJson } from '@app/testing';

function capture() {
  const lines: string[] = [];
  const logger = createLogger('unit', 'trace', { write: (s: string) => void lines.push(...s.split('\n').filter(Boolean)) });
  const parsed = () => lines.map((l) => parseStrictJson(l) as Record<string, unknown>);
  return { logger, lines, parsed };
}

describe('strict JSON reader for log lines', () => {
  it('accepts ordinary JSON and refuses a key written twice, at the top level or nested', () => {
    assert.deepEqual(parseStrictJson('{"a":1,"b":{"c":[1,{"d":"x\\"}"}],"e":{}},"f":[]}'), { a: 1, b: { c: [1, { d: 'x"}' }], e: {} }, f: [] });
    assert.throws(() => parseStrictJson('{"replicaId":"a","x":1,"replicaId":"a"}'), /duplicate key "replicaId" in the top-level object/);
    assert.throws(() => parseStrictJson('{"a":{"b":1,"c":[{"k":1,"k":2}]}}'), /duplicate key "k" in \.a\.c\[0\]/);
    assert.throws(() => parseStrictJson('{"a":1,'), SyntaxError);
  });
});

describe('logger: one JSON object with unique keys per line', () => {
  it('drops a call field that repeats a bound key with the same value, and keeps a different one as key_2', () => {
    const { logger, parsed } = capture();
    const child = logger.child({ replicaId: 'gw-1' });
    child.info({ replicaId: 'gw-1', locations: 3 }, 'gateway replica started');
    child.warn({ replicaId: 'gw-2' }, 'another replica');
    const [a, b] = parsed();
    assert.equal(a!.replicaId, 'gw-1');
    assert.equal(a!.locations, 3);
    assert.equal(a!.msg, 'gateway replica started');
    assert.equal(b!.replicaId, 'gw-1');
    assert.equal(b!.replicaId_2, 'gw-2');
  });

  it('never repeats a key across nested children, the base, or pino’s own level/time/msg', () => {
    const { logger, parsed, lines } = capture();
    const c1 = logger.child({ locationId: 'L1', app: 'unit' });
    const c2 = c1.child({ locationId: 'L2', rpcId: 'r1' });
    c2.info({ locationId: 'L1', rpcId: 'r1', msg: 'field msg', time: 'then', level: 'loud', pid: process.pid }, 'hello');
    c2.error(new Error('boom'));
    logger.info('plain');
    logger.info({ msg: 'only a field', n: 1 });
    logger.child({ msg: 'bound' }).info('said');
    const [a, b, c, d, e] = parsed();
    assert.equal(lines.length, 5);
    assert.equal(d!.msg, 'only a field', 'a msg field without a message string is the message, as pino has it');
    assert.equal(e!.msg, 'said');
    assert.equal(e!.msg_2, 'bound');
    assert.equal(a!.locationId, 'L1');
    assert.equal(a!.locationId_2, 'L2', 'the inner child’s different value is kept');
    assert.equal(a!.rpcId, 'r1');
    assert.equal(a!.msg, 'hello');
    assert.equal(a!.msg_2, 'field msg');
    assert.equal(a!.level, 'info');
    assert.equal(a!.level_2, 'loud');
    assert.equal(a!.time_2, 'then');
    assert.equal(a!.app, 'unit');
    assert.equal((b!.err as { message: string }).message, 'boom');
    assert.equal(b!.msg, 'boom');
    assert.equal(c!.msg, 'plain');
  });

  it('still redacts secrets, and leaves the caller’s object untouched', () => {
    const { logger, parsed } = capture();
    const child = logger.child({ token: 'x' });
    const fields = { token: 'y', apiKey: 'sk_sandbox_secret', other: 1 };
    child.info(fields, 'with secrets');
    const [a] = parsed();
    assert.equal(a!.apiKey, '[redacted]');
    assert.equal(a!.token, '[redacted]');
    assert.equal(a!.token_2, '[redacted]', 'a renamed secret is censored as well');
    assert.ok(!JSON.stringify(a).includes('sk_sandbox_secret'));
    assert.deepEqual(fields, { token: 'y', apiKey: 'sk_sandbox_secret', other: 1 });
  });

  it('keeps Nest framework lines unique too', () => {
    const { logger, parsed } = capture();
    new NestPinoLogger(logger.child({ context: 'Bound' })).log('booted', 'RoutesResolver');
    const [a] = parsed();
    assert.equal(a!.context, 'Bound');
    assert.equal(a!.context_2, 'RoutesResolver');
  });
});

describe('logger: a request logger bound on its first line (lazyChild)', () => {
  const at = (level: string) => {
    const lines: string[] = [];
    const logger = createLogger('unit', level, { write: (s: string) => void lines.push(...s.split('\n').filter(Boolean)) });
    return { logger, parsed: () => lines.map((l) => parseStrictJson(l) as Record<string, unknown>) };
  };

  it('at warn, a request that writes nothing never binds; a warning carries the bindings, bound once', () => {
    const { logger, parsed } = at('warn');
    let bound = 0;
    const quiet = lazyChild(logger, () => (bound++, { rpcId: 'r1', locationId: 'L1' }));
    quiet.info({ ms: 3 }, 'rpc answered');
    quiet.debug('detail');
    assert.equal(bound, 0, 'lines below the level bind nothing');
    assert.equal(parsed().length, 0);
    const log = lazyChild(logger, () => (bound++, { rpcId: 'r2', locationId: 'L2' }));
    log.warn({ deadline: 'then' }, 'deadline reached');
    log.error({ locationId: 'L2' }, 'failed');
    log.child({ orderId: 'o1' }).warn('from a use-case');
    assert.equal(bound, 1);
    const [a, b, c] = parsed();
    assert.deepEqual([a!.rpcId, a!.locationId, a!.msg, a!.deadline], ['r2', 'L2', 'deadline reached', 'then']);
    assert.equal(b!.locationId, 'L2');
    assert.equal(b!.locationId_2, undefined, 'a repeated key with the same value is still dropped');
    assert.deepEqual([c!.rpcId, c!.orderId, c!.level], ['r2', 'o1', 'warn']);
    assert.deepEqual(log.bindings(), logger.child({ rpcId: 'r2', locationId: 'L2' }).bindings(), 'the bindings a child made at once would have');
  });

  it('at info, every line of the request carries its bindings', () => {
    const { logger, parsed } = at('info');
    const log = lazyChild(logger, () => ({ rpcId: 'r3', method: 'GetOrderByIdV1' }));
    log.info({ ms: 1 }, 'rpc answered');
    log.debug('not written at info');
    const lines = parsed();
    assert.equal(lines.length, 1);
    assert.deepEqual([lines[0]!.rpcId, lines[0]!.method, lines[0]!.ms, lines[0]!.app], ['r3', 'GetOrderByIdV1', 1, 'unit']);
  });
});

describe("logger: a context's fields on every line of the work in progress", () => {
  it('adds the context unless the logger or the call writes the key; nothing outside the work', () => {
    const lines: string[] = [];
    let ctx: Record<string, unknown> | undefined;
    const logger = createLogger('unit', 'info', { write: (s: string) => void lines.push(...s.split('\n').filter(Boolean)) }, { context: () => ctx });
    const parsed = () => lines.map((l) => parseStrictJson(l) as Record<string, unknown>);
    logger.info('before');
    ctx = { requestId: 'r1', method: 'PUT', locationId: 'L1', msg: 'never', route: undefined };
    const fields = { n: 1 };
    logger.info(fields, 'inside');
    logger.child({ locationId: 'L1', component: 'c' }).warn({ requestId: 'own' }, 'bound and own');
    logger.info('plain');
    ctx = undefined;
    logger.info('after');
    const [a, b, c, d, e] = parsed();
    assert.equal(a!.requestId, undefined);
    assert.deepEqual([b!.requestId, b!.method, b!.locationId, b!.msg, b!.n, 'route' in b!], ['r1', 'PUT', 'L1', 'inside', 1, false]);
    assert.deepEqual(fields, { n: 1 }, "the caller's object is left as it was");
    assert.deepEqual([c!.requestId, c!.locationId, c!.component, c!.method], ['own', 'L1', 'c', 'PUT'], 'bindings and the call win, each key once');
    assert.equal(d!.requestId, 'r1');
    assert.equal(e!.requestId, undefined);
  });
});

describe('requestIdFrom: the x-request-id a request is known by', () => {
  it("keeps a sane caller's id, makes a new one for anything else", () => {
    assert.equal(requestIdFrom('pos-req-0001'), 'pos-req-0001');
    assert.equal(requestIdFrom('x'.repeat(128)), 'x'.repeat(128));
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of [undefined, '', 'x'.repeat(129), 'two words', 'line\nbreak', 'caf\u00e9', ['a', 'b']]) assert.match(requestIdFrom(bad), uuid, JSON.stringify(bad));
  });
});
