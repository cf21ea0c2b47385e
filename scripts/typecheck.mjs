// Type check with the full tsconfig.json (noUncheckedIndexedAccess included).
// Errors fail the check, except in PENDING folders, which are being rewritten
// on other branches (issue 11): their errors are counted and printed, and stop
// being tolerated once the folder is taken off the list.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PENDING = ['libs/domain/'];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit', '--incremental', 'false', '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
if (r.error) throw r.error;
// One diagnostic per line starting with `path(line,col): error TSnnnn`; continuation lines are indented.
const blocks = [];
for (const line of r.stdout.split('\n')) {
  if (/^\S.*\(\d+,\d+\): error TS\d+/.test(line) || /^error TS\d+/.test(line)) blocks.push(line);
  else if (line.trim() && blocks.length) blocks[blocks.length - 1] += `\n${line}`;
}
const pending = blocks.filter((b) => PENDING.some((p) => b.startsWith(p)));
const failing = blocks.filter((b) => !pending.includes(b));
if (pending.length) {
  const per = new Map();
  for (const b of pending) {
    const dir = PENDING.find((p) => b.startsWith(p));
    per.set(dir, (per.get(dir) ?? 0) + 1);
  }
  console.log(`typecheck: ${pending.length} error(s) tolerated in folders being rewritten: ${[...per].map(([d, n]) => `${d} ${n}`).join(', ')}`);
}
if (failing.length) {
  console.error(failing.join('\n'));
  console.error(`typecheck: ${failing.length} error(s)`);
  process.exit(1);
}
if (r.status !== 0 && blocks.length === 0) {
  process.stderr.write(r.stdout + r.stderr);
  process.exit(r.status ?? 1);
}
console.log('typecheck: ok');
