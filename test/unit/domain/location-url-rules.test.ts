/** The rules for the URLs a location or counter link dials (libs/domain/src/admin/location-rules.ts): no database. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretQueryParamName } from '@app/contracts';
import { checkProtocolCredentials, locationUrlProblems, settingsKept, urlCredentialProblem, urlsAfterProtocolSet, urlTlsProblem } from '@app/domain/admin';

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

describe('a protocol settings change keeps what it does not name', () => {
  it('lays the given fields over the stored ones; left out or null keeps them all', () => {
    const stored = { accountName: 'acct7', environment: 'staging', enforceWaiterId: false };
    assert.deepEqual(settingsKept('dojo-tables', stored, { dojoTables: { enforceWaiterId: true } }), { dojoTables: { accountName: 'acct7', environment: 'staging', enforceWaiterId: true } });
    assert.deepEqual(settingsKept('dojo-tables', stored, { dojoTables: { environment: undefined } }), { dojoTables: stored });
    assert.deepEqual(settingsKept('dojo-tables', stored, { dojoTables: null }), { dojoTables: stored });
    assert.deepEqual(settingsKept('dojo-tables', stored), { dojoTables: stored });
    assert.deepEqual(settingsKept('epos-data', {}, {}), {});
    const pac = { hostAddress: 'h', environment: 'test', installerId: 'i', signatureDefault: 'accept', signatureWaitMs: 30_000 };
    assert.deepEqual(settingsKept('connect-pac', pac, { connectPac: { signatureWaitMs: 5_000 } }), { connectPac: { ...pac, signatureWaitMs: 5_000 } });
  });

  it('gives checkProtocolCredentials the stored environment, not the default', () => {
    const kept = settingsKept('dojo-tables', { accountName: 'acct7', environment: 'staging', enforceWaiterId: false }, { dojoTables: { enforceWaiterId: true } });
    const checked = checkProtocolCredentials({ protocol: 'dojo-tables', apiKey: 'tables-key-0001', dojoAccountId: 'acc', ...kept });
    assert.equal(checked.environment, 'sandbox');
    assert.deepEqual(checked.settings, { accountName: 'acct7', environment: 'staging', enforceWaiterId: true });
  });
});

describe("a protocol switch and the location's URLs", () => {
  const stored = { wsUrl: 'wss://eu.ws.dojo.tech/epos', restUrl: 'https://api.dojo.tech' };
  it('clears them on a switch unless given, keeps them within the protocol; null clears either way', () => {
    const sw = { same: false, protocol: 'connect-pat', environment: 'production' } as const;
    assert.deepEqual(urlsAfterProtocolSet(stored, {}, sw), { urls: { wsUrl: null, restUrl: null }, errors: [] });
    assert.deepEqual(urlsAfterProtocolSet(stored, { wsUrl: 'wss://proxy.example.test/pat' }, sw).urls, { wsUrl: 'wss://proxy.example.test/pat', restUrl: null });
    const same = { same: true, protocol: 'epos-data', environment: 'production' } as const;
    assert.deepEqual(urlsAfterProtocolSet(stored, {}, same), { urls: stored, errors: [] });
    assert.deepEqual(urlsAfterProtocolSet(stored, { wsUrl: null }, same).urls, { wsUrl: null, restUrl: stored.restUrl });
  });

  it('refuses a restUrl outside epos-data, plain or credentialed URLs given, and plain URLs kept into production', () => {
    const pat = { same: false, protocol: 'connect-pat', environment: 'sandbox' } as const;
    assert.deepEqual(urlsAfterProtocolSet(stored, { restUrl: 'https://api.dojo.tech' }, pat).errors.map((e) => e.field), ['restUrl']);
    assert.deepEqual(urlsAfterProtocolSet(stored, { restUrl: null }, pat).errors, []);
    const prod = { same: false, protocol: 'dojo-tables', environment: 'production' } as const;
    assert.deepEqual(urlsAfterProtocolSet(stored, { wsUrl: 'ws://127.0.0.1:9/t' }, prod).errors.map((e) => e.field), ['wsUrl']);
    assert.deepEqual(urlsAfterProtocolSet(stored, { wsUrl: 'wss://h/t?token=x' }, prod).errors.map((e) => e.field), ['wsUrl']);
    const plain = { wsUrl: 'ws://127.0.0.1:9/t', restUrl: null };
    assert.deepEqual(urlsAfterProtocolSet(plain, {}, { ...prod, same: true }).errors.map((e) => e.field), ['wsUrl']);
    assert.deepEqual(urlsAfterProtocolSet(plain, {}, prod).errors, [], 'a switch clears it: nothing kept to refuse');
  });
});
