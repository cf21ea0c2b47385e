// Build: generate the Prisma client when the schema changed, compile with tsc,
// rewrite @app/* path aliases to relative paths in dist.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (pkg, rel) => join(root, 'node_modules', pkg, rel);
const run = (file, args, env = {}) =>
  execFileSync(process.execPath, [file, ...args], { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });

function generatePrismaClient() {
  const schema = readFileSync(join(root, 'prisma/schema.prisma'));
  const prismaPkg = readFileSync(bin('prisma', 'package.json'));
  const hash = createHash('sha256').update(schema).update(prismaPkg).digest('hex');
  const out = join(root, 'libs/db/src/generated/prisma');
  const stamp = join(out, '.schema-hash');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return;
  // `prisma generate` does not need the schema engine, but the CLI insists on
  // locating one and would try to download it. Point it at a stub instead.
  const stubDir = join(root, 'node_modules/.cache/epos-relay');
  mkdirSync(stubDir, { recursive: true });
  const stub = join(stubDir, 'schema-engine-stub');
  writeFileSync(stub, '#!/bin/sh\necho "schema engine is not used by prisma generate" >&2\nexit 1\n');
  chmodSync(stub, 0o755);
  run(bin('prisma', 'build/index.js'), ['generate', '--schema', 'prisma/schema.prisma'], {
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? stub,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  });
  writeFileSync(stamp, hash);
}

// BUILD_OUT=dist-x builds into another folder (parallel work trees); the
// test runner and scripts find everything relative to their own output folder.
const outDir = process.env.BUILD_OUT ?? 'dist';

// Up-to-date check, like make: nothing is rebuilt when no source file, folder
// (a deletion or rename changes its folder) or build input is newer than the
// last successful build. A no-op tsc run still costs several seconds of CPU,
// which `npm run test:unit` would pay on every run. BUILD_FORCE=1 rebuilds anyway.
const stampFile = join(resolve(root, outDir), '.build-stamp');
function newestInput() {
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p);
    newest = Math.max(newest, st.mtimeMs);
    if (!st.isDirectory()) return;
    for (const name of readdirSync(p)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const child = join(p, name);
      if (/\.(ts|mts|cts|json|mjs|prisma)$/.test(name) || statSync(child).isDirectory()) visit(child);
    }
  };
  for (const d of ['apps', 'libs', 'scripts', 'test', 'bench', 'prisma']) if (existsSync(join(root, d))) visit(join(root, d));
  for (const f of ['tsconfig.json', 'package.json', 'package-lock.json']) if (existsSync(join(root, f))) visit(join(root, f));
  return newest;
}
const buildStarted = new Date();
if (process.env.BUILD_FORCE !== '1' && existsSync(stampFile) && statSync(stampFile).mtimeMs >= newestInput()) {
  console.log(`build: ${outDir} is up to date (BUILD_FORCE=1 rebuilds)`);
  process.exit(0);
}
rmSync(stampFile, { force: true });
let typeErrors = false;

generatePrismaClient();
try {
  // The full tsconfig.json, noUncheckedIndexedAccess included: a type error fails the build.
  run(bin('typescript', 'bin/tsc'), ['-p', 'tsconfig.json', '--outDir', outDir, '--tsBuildInfoFile', join(outDir, '.tsbuildinfo')]);
} catch (err) {
  // tsc still emitted JavaScript; BUILD_IGNORE_TYPE_ERRORS=1 lets work in progress elsewhere not block a run.
  if (process.env.BUILD_IGNORE_TYPE_ERRORS !== '1') process.exit(1);
  console.warn('build: type errors ignored (BUILD_IGNORE_TYPE_ERRORS=1)');
  typeErrors = true;
}
run(bin('tsc-alias', 'dist/bin/index.js'), ['-p', 'tsconfig.json', '--outDir', outDir]);
// Stamped with the time the build started, so a file saved during the build is built next time.
// A build with ignored type errors is not stamped: the next one checks again.
if (!typeErrors) {
  writeFileSync(stampFile, '');
  utimesSync(stampFile, buildStarted, buildStarted);
}
