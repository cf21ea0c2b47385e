/**
 * The pay-at-counter flow's reader of the venue API's Server-Sent Events:
 * against a small HTTP server that writes the stream in awkward pieces
 * (events split across chunks, CRLF, comment heartbeats, several data lines),
 * and refusals (a 401, a stream that is not text/event-stream, one that ends).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VenueEventStream } from '@app/dojo-sandbox';

describe('venue event stream reader (SSE)', () => {
  let url = '';
  const streams: ServerResponse[] = [];
  const server = createServer((req, res) => {
    if (req.headers.authorization !== 'Bearer vt_test') return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"no"}');
    if (req.url === '/json') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
    res.flushHeaders();
    streams.push(res);
    if (req.url === '/short') res.end('id: 1\nevent: transaction\ndata: {"a":1}\n\n');
  });

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const s of streams) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('reads events written in pieces, with CRLF, heartbeats and multi-line data, in order', async () => {
    const s = await VenueEventStream.open(`${url}/stream`, { authorization: 'Bearer vt_test' });
    const res = streams.at(-1)!;
    res.write(': heartbeat\n\n');
    res.write('id: 10.1\nevent: notif');
    res.write('ication\ndata: {"tid":"VT-1",');
    res.write('"notificationValue":"PRESENT_CARD"}\n\n');
    res.write('id: 10.2\r\nevent: transaction\r\ndata: {"state":\r\ndata: "finished"}\r\n\r\n');
    res.write('data: not json\n\n');
    assert.deepEqual(await s.next(2_000), { id: '10.1', event: 'notification', data: { tid: 'VT-1', notificationValue: 'PRESENT_CARD' } });
    assert.deepEqual(await s.next(2_000), { id: '10.2', event: 'transaction', data: { state: 'finished' } });
    assert.deepEqual(await s.next(2_000), { event: 'message', data: 'not json' });
    await assert.rejects(s.next(100), /no event from the venue's stream within 0 s/);
    assert.equal(s.seen.length, 3);
    s.close();
  });

  it('refuses a 401 and a stream that is not text/event-stream; says when the stream ended', async () => {
    await assert.rejects(VenueEventStream.open(`${url}/stream`, { authorization: 'Bearer wrong' }), /answered 401: \{"message":"no"\}/);
    await assert.rejects(VenueEventStream.open(`${url}/json`, { authorization: 'Bearer vt_test' }), /application\/json, not text\/event-stream/);
    const s = await VenueEventStream.open(`${url}/short`, { authorization: 'Bearer vt_test' });
    assert.equal((await s.next(2_000)).event, 'transaction');
    await assert.rejects(s.next(2_000), /the event stream ended/);
  });
});
