import { Client } from 'pg';

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe database name: ${name}`);
  return `"${name}"`;
}

/** Runs `fn` on a connection of its own to the maintenance database ('postgres') of `url`'s server, closed after. */
export async function onMaintenance<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: withDatabase(url, 'postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates the database named in `url` when it does not exist; returns whether it was created. */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1)) || 'postgres';
  return onMaintenance(url, async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    await c.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err; // created concurrently
    });
    return true;
  });
}

/** Creates `name` as a copy of `template` on the server of `url`; returns the new database's URL. */
export async function cloneDatabase(url: string, template: string, name: string): Promise<string> {
  await onMaintenance(url, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`));
  return withDatabase(url, name);
}

export async function dropDatabase(url: string, name: string): Promise<void> {
  await onMaintenance(url, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

export { withDatabase };
