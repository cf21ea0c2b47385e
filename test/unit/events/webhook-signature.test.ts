import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sign, verify } from '@app/domain/events/webhook-signature';
import { parseDojoEventPayload } from '@app/domain/events/dojo-event-payload';

// The worked example from Dojo's webhook guide (seed 002): compact JSON, secret, expected header.
const SECRET = 'PDYkJQq6sESYHp_zJuTTBQ';
const BODY = Buffer.from(
  '{"id":"evt_hnnHxIKR_Uy6bhZCusCltw","event":"payment_intent.created","accountId":"acc_test",' +
    '"createdAt":"2022-02-01T13:07:41.8667859Z","data":{"paymentIntentId":"pi_vpwd4ooAPEqyNAQe4z89WQ",' +
    '"paymentStatus":"Created","captureMode":"Auto"}}',
);
const HEADER = 'sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-E5-E1-22-84-FA-04-18-50-A1-76-FD';

describe('dojo-signature', () => {
  it('reproduces the worked example from the guide', () => {
    assert.equal(sign(SECRET, BODY), HEADER);
    assert.equal(verify(HEADER, BODY, [SECRET]), true);
  });

  it('accepts the header when any active secret matches (rotation overlap)', () => {
    assert.equal(verify(HEADER, BODY, ['new-secret-not-yet-used', SECRET]), true);
    assert.equal(verify(HEADER, BODY, [SECRET, 'other']), true);
  });

  it('rejects a tampered body', () => {
    const tampered = Buffer.from(BODY.toString().replace('"Created"', '"Captured"'));
    assert.equal(verify(HEADER, tampered, [SECRET]), false);
    // Re-serialised with spaces: same JSON value, different bytes.
    const pretty = Buffer.from(JSON.stringify(JSON.parse(BODY.toString()), null, 1));
    assert.equal(verify(HEADER, pretty, [SECRET]), false);
    const extraByte = Buffer.concat([BODY, Buffer.from('\n')]);
    assert.equal(verify(HEADER, extraByte, [SECRET]), false);
  });

  it('rejects other secrets and no secrets', () => {
    assert.equal(verify(HEADER, BODY, ['PDYkJQq6sESYHp_zJuTTBq']), false);
    assert.equal(verify(HEADER, BODY, []), false);
  });

  it('rejects mangled headers', () => {
    const hex = HEADER.slice('sha256='.length);
    const mangled = [
      '',
      hex, // no prefix
      'sha1=' + hex,
      'sha256=' + hex.replaceAll('-', ''), // no separators
      'sha256=' + hex.replaceAll('-', ':'),
      'sha256=' + hex.slice(0, -3), // one byte short
      HEADER + '-00', // one byte more
      HEADER.slice(0, -1) + 'E', // last nibble changed
      'sha256=' + Buffer.from(hex.replaceAll('-', ''), 'hex').toString('base64'),
      'sha256=ZZ' + hex.slice(2),
    ];
    for (const h of mangled) assert.equal(verify(h, BODY, [SECRET]), false, `accepted ${JSON.stringify(h)}`);
    assert.equal(verify(undefined, BODY, [SECRET]), false);
    assert.equal(verify(null, BODY, [SECRET]), false);
  });

  it('signs other bodies so that only the signing secret verifies them', () => {
    const body = Buffer.from('{"hello":"world"}');
    const h = sign('s1', body);
    assert.match(h, /^sha256=([0-9A-F]{2}-){31}[0-9A-F]{2}$/);
    assert.equal(verify(h, body, ['s1']), true);
    assert.equal(verify(h, body, ['s2']), false);
  });
});

describe('parseDojoEventPayload', () => {
  it('accepts the example payload', () => {
    const r = parseDojoEventPayload(JSON.parse(BODY.toString()));
    assert.equal(r.ok, true);
  });

  it('names what is wrong', () => {
    const good = JSON.parse(BODY.toString());
    const cases: Array<[unknown, RegExp]> = [
      [null, /not a JSON object/],
      [[], /not a JSON object/],
      [{ ...good, id: undefined }, /^id/],
      [{ ...good, event: 3 }, /^event/],
      [{ ...good, accountId: '' }, /^accountId/],
      [{ ...good, createdAt: 'yesterday' }, /^createdAt/],
      [{ ...good, data: 'x' }, /^data/],
      [{ ...good, data: { paymentIntentId: 42 } }, /data\.paymentIntentId/],
    ];
    for (const [value, reason] of cases) {
      const r = parseDojoEventPayload(value);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, reason);
    }
  });
});
