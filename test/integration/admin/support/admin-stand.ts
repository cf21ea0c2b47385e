import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../../apps/admin/src/main';
import { DojoStandIn } from './dojo-stand-in';
import type { Api } from './helpers';
import { apiClient, OPERATOR_TOKEN } from './helpers';

/** An admin app on a database of its own, with a Dojo stand-in as DOJO_API_URL: where most admin tests start. */
export interface AdminStand {
  db: TestDatabase;
  dojo: DojoStandIn;
  admin: RunningApp;
  /** The operator API client. */
  api: Api;
  close(): Promise<void>;
}

export async function startAdminStand(label: string): Promise<AdminStand> {
  const db = await createTestDatabase(label);
  const dojo = await new DojoStandIn().start();
  const admin = await startAdmin(appEnv(db, { ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, DOJO_API_URL: dojo.url, QUEUE_PREFIX: uniquePrefix(label) }));
  return {
    db,
    dojo,
    admin,
    api: apiClient(admin.url),
    async close() {
      await admin.close();
      await dojo.stop();
      await db.drop();
    },
  };
}

/** A software house made through the operator API: its id. */
export async function newSoftwareHouse(api: Api, name: string): Promise<string> {
  const sh = await api('POST', '/v1/software-houses', { body: { name, dojoSoftwareHouseId: `sh-${name.replace(/\W/g, '').toLowerCase()}-${Date.now()}` } });
  assert.equal(sh.status, 201, JSON.stringify(sh.body));
  return sh.body.id as string;
}
