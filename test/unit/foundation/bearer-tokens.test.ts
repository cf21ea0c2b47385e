/**
 * bearerToken and SecretTokens (@app/common bearer-tokens.ts): how the operator guard, the console's socket, the
 * queue board and the metrics routes read `Authorization: Bearer …` and check it against their configured tokens.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken, SecretTokens } from '@app/common';

describe('bearerToken: the token of an Authorization header', () => {
  it('takes the token after the Bearer scheme, in any case, with trailing spaces', () => {
    assert.equal(bearerToken('Bearer abc.def'), 'abc.def');
    assert.equal(bearerToken('bearer   abc'), 'abc');
    assert.equal(bearerToken('BEARER abc  '), 'abc');
  });

  it('gives nothing for another scheme, a missing token, two tokens, or no header', () => {
    for (const h of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', 'Bearer a b', 'abc', '', undefined, ['Bearer abc']]) {
      assert.equal(bearerToken(h), undefined, String(h));
    }
  });
});

describe('SecretTokens: configured tokens checked in constant time', () => {
  it('accepts each configured token and nothing else', () => {
    const tokens = new SecretTokens(['op-token-1', 'op-token-2-longer']);
    assert.equal(tokens.accepts('op-token-1'), true);
    assert.equal(tokens.accepts('op-token-2-longer'), true);
    for (const t of ['op-token-', 'op-token-1x', 'OP-TOKEN-1', '', undefined]) assert.equal(tokens.accepts(t), false, String(t));
  });

  it('accepts nothing when no token is configured', () => {
    assert.equal(new SecretTokens([]).accepts('anything'), false);
    assert.equal(new SecretTokens([]).accepts(''), false);
  });
});

describe('SecretTokens sessions: a browser session made from a configured token', () => {
  const tokens = new SecretTokens(['op-token-1', 'op-token-2-longer']);
  const in1h = new Date(Date.now() + 3_600_000);

  it('is accepted for its purpose until it expires, and never contains the token', () => {
    const s = tokens.session('op-token-2-longer', 'board', in1h);
    assert.ok(!s.includes('op-token'), s);
    assert.equal(tokens.acceptsSession(s, 'board'), true);
    assert.equal(tokens.acceptsSession(s, 'other-purpose'), false);
    assert.equal(tokens.acceptsSession(s, 'board', new Date(in1h.getTime() + 1_000)), false, 'expired');
  });

  it('is refused when altered, made from another token, or after the token is rotated out', () => {
    const s = tokens.session('op-token-1', 'board', in1h);
    const [, exp, mac] = s.split('.');
    assert.equal(tokens.acceptsSession(`s1.${Number(exp) + 60}.${mac}`, 'board'), false, 'a later expiry');
    const flip = (c: string) => (c === 'A' ? 'B' : 'A');
    assert.equal(tokens.acceptsSession(`s1.${exp}.${flip(mac![0]!)}${mac!.slice(1)}`, 'board'), false, 'another MAC');
    // Every other spelling of the last character (base64's unused low bits) is refused too, though it decodes the same.
    for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
      const v = `s1.${exp}.${mac!.slice(0, -1)}${c}`;
      assert.equal(tokens.acceptsSession(v, 'board'), v === s, v);
    }
    assert.equal(tokens.acceptsSession(new SecretTokens(['elsewhere-token']).session('elsewhere-token', 'board', in1h), 'board'), false);
    assert.equal(new SecretTokens(['op-token-2-longer']).acceptsSession(s, 'board'), false, 'op-token-1 no longer configured');
    for (const v of ['op-token-1', '', 's1..', 's1.1.x', undefined]) assert.equal(tokens.acceptsSession(v, 'board'), false, String(v));
  });
});
