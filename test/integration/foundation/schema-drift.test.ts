import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { getDMMF } from '@prisma/internals';
import type { SchemaShape } from '@app/db';
import { diffShapes, shapeFromDatabase, shapeFromDmmf } from '@app/db';
import { repoRoot } from '@app/infra';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase } from '@app/testing';

async function expectedShape(schemaText: string): Promise<SchemaShape> {
  const dmmf = await getDMMF({ datamodel: schemaText });
  return shapeFromDmmf(dmmf.datamodel as never);
}

describe('schema.prisma and the SQL migrations', () => {
  let db: TestDatabase;
  let schemaText: string;
  before(async () => {
    db = await createTestDatabase('drift');
    schemaText = readFileSync(join(repoRoot(), 'prisma', 'schema.prisma'), 'utf8');
  });
  after(async () => db.drop());

  it('describe the same tables, columns, keys, indexes, foreign keys and enums', async () => {
    const diff = diffShapes(await expectedShape(schemaText), await shapeFromDatabase(db.url));
    assert.deepEqual(diff, [], `schema.prisma and prisma/migrations disagree:\n${diff.join('\n')}`);
  });

  it('notices a column added to schema.prisma without a migration', async () => {
    const drifted = schemaText.replace('model Area {\n', 'model Area {\n  colour String?\n');
    assert.notEqual(drifted, schemaText);
    const diff = diffShapes(await expectedShape(drifted), await shapeFromDatabase(db.url));
    assert.ok(diff.some((d) => d.startsWith('areas.colour: missing from the SQL')), diff.join('\n'));
  });

  it('notices an index and a nullability change made only in SQL', async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query('CREATE INDEX extra_idx ON areas (name)');
      await c.query('ALTER TABLE orders ALTER COLUMN note SET NOT NULL');
    } finally {
      await c.end();
    }
    const diff = diffShapes(await expectedShape(schemaText), await shapeFromDatabase(db.url));
    assert.ok(diff.some((d) => d.startsWith('areas indexes')), diff.join('\n'));
    assert.ok(diff.some((d) => d.startsWith('orders.note')), diff.join('\n'));
  });
});
