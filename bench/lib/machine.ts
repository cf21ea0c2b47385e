import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem, release, loadavg } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@app/infra';
import { createPrisma } from '@app/db';

function pkgVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(repoRoot(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function redisVersion(): string | undefined {
  try {
    return /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}

/** Facts about the machine and software a run was measured on. */
export async function machineFacts(databaseUrl: string): Promise<Record<string, unknown>> {
  const c = cpus();
  let postgres: Record<string, string>;
  const prisma = createPrisma(databaseUrl, { poolSize: 1 });
  try {
    const rows = await prisma.$queryRawUnsafe<{ name: string; setting: string }[]>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('server_version','shared_buffers','max_connections','fsync','synchronous_commit','wal_level')`,
    );
    postgres = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  } finally {
    await prisma.$disconnect();
  }
  return {
    cpuModel: c[0]?.model,
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    loadAvgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    packages: Object.fromEntries(
      ['bullmq', 'ioredis', 'ws', '@prisma/client', '@prisma/adapter-pg', 'pg', '@nestjs/core', 'pino'].map((p) => [p, pkgVersion(p)]),
    ),
    redis: redisVersion(),
    postgres,
  };
}
