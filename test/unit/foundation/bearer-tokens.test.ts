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
