import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@app/testing';
import { FIRST, HandoverRig, SECOND } from './support/handover';

/** Three times the link's 1 s close timeout, as in long-handover.test.ts. */
const LEASE_TTL_MS = 3000;
/** Replies get 1.5 s of it; closing the links and releasing the leases the rest. */
const SHUTDOWN_TIMEOUT_MS = 3000;
const VENUES = 12;

/**
 * A replica told to stop while a long handover tick runs (another replica joined; each close waits the link's 1 s
 * timeout because Dojo never answers close frames). The stop must not wait for the whole tick with its leases
 * unrenewed: they would lapse while their sockets are still open here, the other replica would take and dial them
 * (two sockets for one venue), and the stop would overrun its budget.
 */
describe('gateway: a replica stopped during a long handover', () => {
  const rig = new HandoverRig();

  before(() => rig.start('gwstophandover', VENUES));
  after(() => rig.stop());

  it('keeps its leases until its sockets are closed, and stops within its budget', async () => {
    const { fake, locs, gateways } = rig;
    const extra = { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) };
    const first = await rig.boot(FIRST, LEASE_TTL_MS, extra);
    await waitFor(() => locs.every((l) => fake.open(l.apiKey).length === 1) || undefined, 'the first replica holds every venue', 20_000);
    const moving = locs.filter((l) => rig.moves(l.id));

    fake.ignoreCloseFrames();
    const doubles = new Set<string>();
    let took: number;
    const monitor = setInterval(() => {
      for (const l of locs) if (fake.open(l.apiKey).length > 1) doubles.add(l.id);
    }, 10);
    try {
      await rig.boot(SECOND, LEASE_TTL_MS, extra);
      // The first replica's tick is handing the newcomer's share over, a second per venue: stop it in the middle.
      await waitFor(() => moving.some((l) => fake.open(l.apiKey).length === 0) || undefined, 'the handover under way', 10_000, 5);
      const t0 = Date.now();
      await first.close();
      took = Date.now() - t0;
      gateways.splice(gateways.indexOf(first), 1);
      for (const l of locs) assert.ok(!(await rig.lease(l.id))?.startsWith(`${FIRST}:`), 'every lease of the stopped replica released');
      await waitFor(rig.heldBy(SECOND, locs), 'the remaining replica holds every venue', 20_000);
    } finally {
      clearInterval(monitor);
    }
    assert.deepEqual([...doubles], [], 'never two links for one venue');
    assert.ok(took < SHUTDOWN_TIMEOUT_MS, `stopped within SHUTDOWN_TIMEOUT_MS (${took} ms)`);
  });
});
