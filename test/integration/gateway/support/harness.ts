import { startGateway } from '../../../../apps/gateway/src/main';
import type { RunningApp } from '@app/common';
import type { TestDatabase } from '@app/testing';
import { appEnv } from '@app/testing';
import { GatewayService } from '../../../../apps/gateway/src/gateway.service';

export interface TestGateway extends RunningApp {
  service: GatewayService;
}

/** Boots a gateway replica in-process with its own Redis connections. */
export async function bootGateway(db: TestDatabase, env: Record<string, string>): Promise<TestGateway> {
  const running = await startGateway(appEnv(db, env));
  return { ...running, service: running.app.get(GatewayService) };
}

export async function getStatus(gw: RunningApp): Promise<any> {
  const res = await fetch(`${gw.url}/status`);
  return res.json();
}
