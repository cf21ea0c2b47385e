import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@app/testing';
import { FIRST, HandoverRig, SECOND } from './support/handover';

/** Three times the link's 1 s close timeout: a renewal between two handovers comes in time, a tick of several does not. */
const LEASE_TTL_MS = 3000;
const VENUES = 12;

/**
 * A replica handing many venues over when another joins closes them one after another, each close waiting for
 * Dojo's side of the handshake (here: never, so the link's 1 s timeout). That tick lasts several lease TTLs; the
 * venues the replica keeps must stay leased to it throughout (renewed inside the tick), or another replica adopts
 * them while their sockets are still open here: two links for one venue.
 */
describe('gateway: a long handover keeps the leases of the venues the replica keeps', () => {
  const rig = new HandoverRig();

  before(() => rig.start('gwlonghandover', VENUES));
  after(() => rig.stop());

  it('no venue is adopted by the newcomer while the first replica still holds its socket', async () => {
    const { fake, locs } = rig;
    await rig.boot(FIRST, LEASE_TTL_MS);
    await waitFor(() => locs.every((l) => fake.open(l.apiKey).length === 1) || undefined, 'the first replica holds every venue', 20_000);
    const moving = locs.filter((l) => rig.moves(l.id));
    const staying = locs.filter((l) => !moving.includes(l));
    assert.ok(moving.length >= 3 && staying.length >= 2, `a split worth testing: ${moving.length} move, ${staying.length} stay`);

    // Dojo stops finishing close handshakes on the open links: each handover now takes the link's 1 s timeout.
    fake.ignoreCloseFrames();
    const doubles = new Set<string>();
    const lapsed = new Set<string>();
    const firstToken = new Map<string, string | null>();
    for (const l of staying) firstToken.set(l.id, await rig.lease(l.id));
    const monitor = setInterval(() => {
      for (const l of locs) if (fake.open(l.apiKey).length > 1) doubles.add(l.id);
      void Promise.all(staying.map(async (l) => ((await rig.lease(l.id)) !== firstToken.get(l.id) ? lapsed.add(l.id) : undefined)));
    }, 20);
    try {
      await rig.boot(SECOND, LEASE_TTL_MS);
      // The handovers take about a second each, longer in all than a lease TTL.
      await waitFor(rig.heldBy(SECOND, moving), 'the newcomer holds its share', 30_000);
      // Past the time the newcomer would have adopted a lapsed venue (two TTLs after seeing it free).
      await new Promise((r) => setTimeout(r, 2 * LEASE_TTL_MS + 500));
    } finally {
      clearInterval(monitor);
    }
    assert.deepEqual([...lapsed], [], "the first replica's kept venues stayed leased to it with the same token");
    assert.deepEqual([...doubles], [], 'never two links for one venue');
    for (const l of staying) assert.equal(fake.open(l.apiKey).length, 1);
  });
});
