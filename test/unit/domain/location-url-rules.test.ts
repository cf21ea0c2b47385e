/** The rules for the URLs a location or counter link dials (libs/domain/src/admin/location-rules.ts): no database. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretQueryParamName } from '@app/contracts';
import { locationUrlProblems, urlCredentialProblem, urlTlsProblem } from '@app/domain/admin';

describe('location URLs: no credentials, TLS for production', () => {
  it('takes a query parameter for a secret when any of its words is one', () => {
    for (const name of ['token', 'TOKEN', 'key', 'apikey', 'api_key', 'api-key', 'apiKey', 'secret', 'client_secret', 'password', 'auth', 'auth_token', 'accessToken', 'signature', 'X-Amz-Signature', 'sig', 'x.api.key']) {
      assert.ok(isSecretQueryParamName(name), name);
    }
    for (const name of ['region', 'keyword', 'monkey', 'author', 'design', 'v', 'format', 'sigma']) assert.ok(!isSecretQueryParamName(name), name);
  });

  it('refuses user info and secret query parameters, with a reason pointing at apiKey', () => {
    assert.equal(urlCredentialProblem('wss://eu.ws.dojo.tech/epos?region=eu'), undefined);
    assert.equal(urlCredentialProblem('ws://127.0.0.1:4010/epos'), undefined);
    for (const url of ['wss://proxy/epos?token=abc', 'https://user:pass@host', 'https://user@host', 'https://:pass@host', 'wss://h/p?a=1&Sig=2', 'wss://h/p?token']) {
      assert.match(urlCredentialProblem(url) ?? '', /must not carry credentials.*apiKey/, url);
    }
  });

  it('asks TLS of a production location only', () => {
    assert.match(urlTlsProblem('ws://h/epos', 'production') ?? '', /wss:/);
    assert.match(urlTlsProblem('http://h', 'production') ?? '', /https:/);
    for (const url of ['wss://h/epos', 'https://h']) assert.equal(urlTlsProblem(url, 'production'), undefined);
    for (const url of ['ws://127.0.0.1:4010/epos', 'http://127.0.0.1:4010']) assert.equal(urlTlsProblem(url, 'sandbox'), undefined);
  });

  it('names each refused URL by its field; null and absent URLs are not checked', () => {
    const problems = locationUrlProblems({ wsUrl: 'ws://h/epos', restUrl: 'https://u:p@h', other: null, absent: undefined }, 'production');
    assert.deepEqual(problems.map((p) => p.field), ['wsUrl', 'restUrl']);
    assert.match(problems[0]!.reason, /TLS/);
    assert.match(problems[1]!.reason, /credentials/);
    assert.deepEqual(locationUrlProblems({ wsUrl: 'ws://127.0.0.1:9/epos' }, 'sandbox'), []);
  });
});
