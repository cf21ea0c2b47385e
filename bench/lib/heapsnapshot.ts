import { readFileSync } from 'node:fs';

/** Self size by constructor/type in a V8 .heapsnapshot (what --heapsnapshot-signal writes). */
export function heapByConstructor(file: string, top = 20): { totalBytes: number; top: { name: string; count: number; bytes: number }[] } {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const f = snap.snapshot.meta.node_fields;
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const agg = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!];
    const size = snap.nodes[i + iSize]!;
    total += size;
    const name = type === 'object' || type === 'closure' ? `${snap.strings[snap.nodes[i + iName]!]}${type === 'closure' ? ' (closure)' : ''}` : `(${type})`;
    const a = agg.get(name) ?? { count: 0, bytes: 0 };
    a.count++;
    a.bytes += size;
    agg.set(name, a);
  }
  return {
    totalBytes: total,
    top: [...agg.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top).map(([name, v]) => ({ name: name.slice(0, 60), ...v })),
  };
}
