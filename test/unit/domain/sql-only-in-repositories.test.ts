import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { repoRoot } from '@app/infra';

/**
 * Issue 11: one repository per aggregate is the only code that reads or writes
 * its tables. Outside libs/domain/src/repositories no source under libs/ or
 * apps/ runs SQL or calls a Prisma model: no raw queries, no transactions, no
 * SQL fragments, no `prisma.<model>.<op>(` / `tx.<model>.<op>(`.
 * libs/db (the client), libs/testing, libs/infra, generated code, scripts,
 * bench and test are not scanned.
 */
const SCANNED = ['libs', 'apps'];
const NOT_SCANNED = ['libs/db/', 'libs/testing/', 'libs/infra/'];
const REPOSITORIES = 'libs/domain/src/repositories/';

/** Paths (a file, or a folder ending in '/') allowed to break the rule, each with its reason. */
const ALLOWED: ReadonlyArray<{ path: string; reason: string }> = [
  { path: 'libs/common/src/health.ts', reason: 'the readiness probe runs `SELECT 1` on whatever client it is given; it reads no table' },
];

const PRISMA_OPS =
  'findUnique|findUniqueOrThrow|findFirst|findFirstOrThrow|findMany|create|createMany|createManyAndReturn|update|updateMany|updateManyAndReturn|upsert|delete|deleteMany|count|aggregate|groupBy';
const PATTERNS: ReadonlyArray<[string, RegExp]> = [
  ['$queryRaw', /\$queryRaw/],
  ['$executeRaw', /\$executeRaw/],
  ['$transaction', /\$transaction/],
  ['Prisma.sql', /\bPrisma\.sql\b/],
  ['Prisma.raw', /\bPrisma\.raw\b/],
  ['a Prisma model call', new RegExp(`\\b(?:prisma|tx)\\??\\.[a-z]\\w*\\??\\.(?:${PRISMA_OPS})\\s*\\(`)],
];

/** The rule's findings in one file's text, as `line: what`. */
function violations(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const [what, re] of PATTERNS) if (re.test(line)) out.push(`${i + 1}: ${what}`);
  });
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'generated' ? [] : sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('SQL and Prisma calls only in repositories', () => {
  it('the scan sees each kind of call (sanity check of the patterns)', () => {
    const Q = '$query' + 'Raw';
    const sample = [
      `await this.prisma.${Q}\`SELECT 1\``,
      `await tx.$execute${'Raw'}(q)`,
      `prisma.$trans${'action'}([])`,
      `Prisma.${'sql'}\`x\``,
      `Prisma.${'raw'}('x')`,
      `await this.prisma.location.findUnique({ where })`,
      `await tx.dojoEvent.findMany({})`,
      `const x = order.items.map(f); prisma.config.get('x')`,
    ].join('\n');
    assert.deepEqual(violations(sample), ['1: $queryRaw', '2: $executeRaw', '3: $transaction', '4: Prisma.sql', '5: Prisma.raw', '6: a Prisma model call', '7: a Prisma model call']);
  });

  it('every allow-list entry exists and gives a reason', () => {
    const root = repoRoot();
    for (const a of ALLOWED) {
      assert.ok(a.reason.length > 10, `${a.path} has a reason`);
      assert.doesNotThrow(() => readdirSync(join(root, a.path.endsWith('/') ? a.path : join(a.path, '..'))), `${a.path} exists`);
    }
  });

  it('no file under libs/ or apps/ outside libs/domain/src/repositories runs SQL or calls a Prisma model', () => {
    const root = repoRoot();
    const files = SCANNED.flatMap((d) => sourceFiles(join(root, d))).map((f) => relative(root, f).split(sep).join('/'));
    assert.ok(files.length > 100, `found the sources (${files.length} files)`);
    const offences: string[] = [];
    for (const f of files) {
      if (NOT_SCANNED.some((p) => f.startsWith(p)) || f.startsWith(REPOSITORIES)) continue;
      if (ALLOWED.some((a) => (a.path.endsWith('/') ? f.startsWith(a.path) : f === a.path))) continue;
      for (const v of violations(readFileSync(join(root, f), 'utf8'))) offences.push(`${f}:${v}`);
    }
    assert.deepEqual(offences, []);
  });
});
