import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectPatBaseUrl, redactSecretsInText, redactUrl } from '@app/contracts';
import { checkProtocolCredentials, DomainError } from '@app/domain/admin';
import type { LocationConfig } from '@app/gateway';
import { defaultProfiles, DojoTablesProfile } from '@app/gateway';

const tablesLoc: LocationConfig = {
  id: '11111111-1111-1111-1111-111111111111',
  name: 'v',
  enabled: true,
  configVersion: 1,
  capabilities: [],
  apiKey: '7d4773f2-367f-406c-881a-b4cb854971f3',
  softwareHouseId: 'sh-1',
  profile: 'dojo-tables',
  settings: { accountName: 'abcdef0000000', environment: 'production', enforceWaiterId: false },
};

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DomainError, String(err));
    return err.fields.map((f) => f.field);
  }
  assert.fail('expected a DomainError');
}

describe('protocols: URL redaction', () => {
  it('hides the Connect token (and any secret parameter or password) and keeps the rest, bare flags included', () => {
    const url = `${connectPatBaseUrl({ hostAddress: 'venue1', environment: 'test' })}?token=tok-SECRET-123&api-version=v1&software-house-id=SH1&installer-id=I1&final-pos-receipt-request`;
    assert.equal(
      redactUrl(url),
      'wss://venue1.test.connect.paymentsense.cloud/pat?token=***&api-version=v1&software-house-id=SH1&installer-id=I1&final-pos-receipt-request',
    );
    assert.equal(redactUrl('wss://u:pw@x.example/ws?apiKey=k1&a=b'), 'wss://u:***@x.example/ws?apiKey=***&a=b');
    assert.equal(redactUrl('wss://api.dojo.tech/ws/v1/tables/epos'), 'wss://api.dojo.tech/ws/v1/tables/epos');
    assert.equal(redactUrl('not a url token=abc'), 'not a url token=***');
    assert.equal(redactSecretsInText('getaddrinfo ENOTFOUND for wss://h/pat?token=abc123&x=1'), 'getaddrinfo ENOTFOUND for wss://h/pat?token=***&x=1');
  });
});

describe('protocols: credentials per protocol', () => {
  it('epos-data needs a Dojo secret key; the environment comes from its prefix', () => {
    assert.equal(checkProtocolCredentials({ apiKey: 'sk_prod_abcdef', dojoAccountId: 'a' }).environment, 'production');
    assert.deepEqual(fieldsOf(() => checkProtocolCredentials({ apiKey: 'nope', dojoAccountId: 'a' })), ['apiKey']);
    assert.equal(checkProtocolCredentials({ apiKey: 'sk_sandbox_a1!~Z', dojoAccountId: 'a' }).environment, 'sandbox');
    // The key goes out as a header: anything Node would refuse to send there (ERR_INVALID_CHAR), or a space, is refused here.
    for (const bad of ['sk_prod_abc\u200bdef', 'sk_prod_abc\u0007def', 'sk_prod_abc def', 'sk_prod_abcdéf', 'sk_prod_abc\u0394def', 'sk_prod_abcdef\n', 'sk_prod_abcd']) {
      assert.deepEqual(fieldsOf(() => checkProtocolCredentials({ apiKey: bad, dojoAccountId: 'a' })), ['apiKey'], JSON.stringify(bad));
    }
    assert.deepEqual(
      fieldsOf(() => checkProtocolCredentials({ apiKey: 'sk_prod_abcdef', dojoAccountId: 'a', connectPat: { hostAddress: 'h', installerId: 'i' } })),
      ['connectPat'],
    );
  });

  it('dojo-tables: account name defaults to the account id, no ":" in it; staging is the sandbox environment', () => {
    const c = checkProtocolCredentials({ protocol: 'dojo-tables', apiKey: tablesLoc.apiKey!, dojoAccountId: 'abcdef0000000', dojoTables: { environment: 'staging' } });
    assert.deepEqual(c.settings, { accountName: 'abcdef0000000', environment: 'staging', enforceWaiterId: false });
    assert.equal(c.environment, 'sandbox');
    assert.deepEqual(
      fieldsOf(() => checkProtocolCredentials({ protocol: 'dojo-tables', apiKey: 'short', dojoAccountId: 'x', dojoTables: { accountName: 'a:b' } })),
      ['apiKey', 'dojoTables.accountName'],
    );
  });

  it('connect-pat: host address and installer id are required, with one field error each', () => {
    const c = checkProtocolCredentials({
      protocol: 'connect-pat',
      apiKey: 'tok-0123456789',
      dojoAccountId: 'x',
      connectPat: { hostAddress: 'Venue-1', installerId: 'inst-9', finalPosReceiptRequest: true },
    });
    assert.deepEqual(c.settings, { hostAddress: 'venue-1', environment: 'production', installerId: 'inst-9', finalPosReceiptRequest: true });
    assert.deepEqual(fieldsOf(() => checkProtocolCredentials({ protocol: 'connect-pat', apiKey: 'tok-0123456789', dojoAccountId: 'x' })), ['connectPat']);
    assert.deepEqual(
      fieldsOf(() => checkProtocolCredentials({ protocol: 'connect-pat', apiKey: 'a b', dojoAccountId: 'x', connectPat: { hostAddress: 'a.b', installerId: '' } })),
      ['apiKey', 'connectPat.hostAddress', 'connectPat.installerId'],
    );
  });
});

describe('protocols: the dojo-tables profile', () => {
  const p = new DojoTablesProfile();

  it('is registered, and dials production, staging or the override', () => {
    assert.ok(defaultProfiles().get('dojo-tables') instanceof DojoTablesProfile);
    assert.equal(p.buildUrl(tablesLoc), 'wss://api.dojo.tech/ws/v1/tables/epos');
    assert.equal(p.buildUrl({ ...tablesLoc, settings: { ...tablesLoc.settings, environment: 'staging' } }), 'wss://staging-api.dojo.dev/ws/v1/tables/epos');
    assert.equal(p.buildUrl({ ...tablesLoc, wsUrl: 'ws://127.0.0.1:9/ws/v1/tables/epos' }), 'ws://127.0.0.1:9/ws/v1/tables/epos');
  });

  it('authenticates with Basic base64("<accountName>:<apiKey>"), software-house-id and reseller-id only when set', () => {
    // The docs' own example: base64("abcdef0000000:7d4773f2-367f-406c-881a-b4cb854971f3").
    assert.deepEqual(p.handshakeHeaders(tablesLoc), {
      Authorization: 'Basic YWJjZGVmMDAwMDAwMDo3ZDQ3NzNmMi0zNjdmLTQwNmMtODgxYS1iNGNiODU0OTcxZjM=',
      'software-house-id': 'sh-1',
    });
    assert.equal(p.handshakeHeaders({ ...tablesLoc, resellerId: 'res-1' })['reseller-id'], 'res-1');
  });

  it('decodes requests with string or number ids, answers parse errors inside result, ignores ErrorNotification', () => {
    const ok = p.decode(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'GetSession', params: { sessionId: 's1' } }));
    assert.equal(ok.kind, 'request');
    assert.equal(ok.kind === 'request' && ok.id, 7);
    const bad = p.decode('{nope');
    assert.equal(bad.kind, 'reject');
    assert.deepEqual(bad.kind === 'reject' && bad.response('t'), { jsonrpc: '2.0', id: null, result: { errorCode: 'ERROR_PARSE_ERROR', errorReason: 'the message is not valid JSON' } });
    const unknown = p.decode(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'Nope', params: {} }));
    assert.equal(unknown.kind === 'reject' && unknown.errorType, 'ERROR_PARSE_ERROR');
    const missing = p.decode(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'GetSession', params: {} }));
    assert.match(missing.kind === 'reject' ? missing.reason : '', /params\.sessionId/);
    const note = p.decode(JSON.stringify({ jsonrpc: '2.0', method: 'ErrorNotification', params: { errorCode: 'ERROR_PARSE_ERROR', id: 'abc' } }));
    assert.equal(note.kind, 'ignore');
    assert.equal(note.kind === 'ignore' && note.fields.refersToId, 'abc');
    assert.equal(p.encode({ jsonrpc: '2.0', id: '7', result: { session: 1 } }, 7), '{"jsonrpc":"2.0","id":7,"result":{"session":1}}');
    assert.equal(p.outcome({ jsonrpc: '2.0', id: '1', result: { errorCode: 'SESSION_NOT_LOCKED', errorReason: 'x' } }).errorType, 'SESSION_NOT_LOCKED');
    assert.equal(p.outcome(p.failure(1, 'deadline', 'late', 't')).platformFailure, true);
  });
});
