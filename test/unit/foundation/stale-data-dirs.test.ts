import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleDataDirs } from '@app/infra';

describe('removeStaleDataDirs: what a killed or forced-out run left behind', () => {
  it('removes the data directories and logs of dead processes, and nothing that may be in use', () => {
    const root = mkdtempSync(join(tmpdir(), 'epos-stale-'));
    try {
      // A process that has exited: its pid names the leftovers.
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      assert.ok(dead && dead !== process.pid);
      const dir = (name: string, pidFile?: number) => {
        mkdirSync(join(root, name));
        writeFileSync(join(root, name, 'PG_VERSION'), '17\n');
        if (pidFile !== undefined) writeFileSync(join(root, name, 'postmaster.pid'), `${pidFile}\n${join(root, name)}\n`);
      };
      const file = (name: string) => writeFileSync(join(root, name), 'log\n');
      dir(`epos-relay-pg-${dead}-5001`); // its server stopped (no postmaster.pid): stale
      file(`epos-relay-pg-${dead}-5001.log`);
      dir(`epos-relay-pg-${dead}-5002`, dead); // its server was killed (postmaster.pid left): stale
      file(`epos-relay-pg-${dead}-5003.log`); // a log alone: stale
      dir(`epos-relay-pg-${process.pid}-5004`); // its owner runs
      file(`epos-relay-pg-${process.pid}-5004.log`);
      dir(`epos-relay-pg-${dead}-5005`, process.pid); // its owner is gone but the server it names runs
      file(`epos-relay-pg-${dead}-5005.log`);
      dir(`epos-relay-pg-${dead}-5006`, -process.pid); // initdb's standalone backend (its pid negated) runs
      file(`epos-relay-pg-pw-${dead}-abcdef`); // not a data directory
      dir('epos-relay-postgres-linux-x64-17.0.0'); // the binaries' cache
      const said: string[] = [];
      const removed = removeStaleDataDirs(root, (m) => said.push(m));
      assert.deepEqual(removed.sort(), [`epos-relay-pg-${dead}-5001`, `epos-relay-pg-${dead}-5002`, `epos-relay-pg-${dead}-5003.log`]);
      assert.deepEqual(readdirSync(root).sort(), [
        `epos-relay-pg-${dead}-5005`, `epos-relay-pg-${dead}-5005.log`, `epos-relay-pg-${dead}-5006`,
        `epos-relay-pg-${process.pid}-5004`, `epos-relay-pg-${process.pid}-5004.log`,
        `epos-relay-pg-pw-${dead}-abcdef`, 'epos-relay-postgres-linux-x64-17.0.0',
      ].sort());
      assert.equal(said.length, 1);
      assert.match(said[0]!, /left behind/);
      assert.deepEqual(removeStaleDataDirs(root), [], 'a second pass finds nothing');
      assert.deepEqual(removeStaleDataDirs(join(root, 'missing')), [], 'a missing root is nothing to do');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
