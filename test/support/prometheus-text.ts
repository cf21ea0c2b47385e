/** A family of the Prometheus text exposition format, as scraped. */
export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

export interface Sample {
  /** The sample's own name (a histogram's has _bucket, _sum or _count). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the Prometheus text format strictly enough for tests: every sample
 * must belong to a family declared by # TYPE (histogram samples by their
 * _bucket/_sum/_count names), and every line must parse.
 */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const help = new Map<string, string>();
  const familyOf = (sample: string): Family | undefined => {
    const direct = families.get(sample);
    if (direct) return direct;
    const m = /^(.*)_(bucket|sum|count)$/.exec(sample);
    const f = m ? families.get(m[1]!) : undefined;
    return f && (f.type === 'histogram' || f.type === 'summary') ? f : undefined;
  };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) {
      help.set(m[1]!, m[2]!);
      continue;
    }
    m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      families.set(m[1]!, { name: m[1]!, type: m[2]!, help: help.get(m[1]!) ?? '', samples: [] });
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unexpected comment line: ${line}`);
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
      let lm: RegExpExecArray | null;
      let consumed = 0;
      while ((lm = re.exec(m[2])) !== null) {
        labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed += lm[0].length;
      }
      if (consumed !== m[2].length) throw new Error(`unparsable labels: ${line}`);
    }
    const family = familyOf(m[1]!);
    if (!family) throw new Error(`sample of an undeclared family: ${line}`);
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    family.samples.push({ name: m[1]!, labels, value });
  }
  return families;
}

/** Sum of the samples named `sample` (default: the family's own name) whose labels include `match`. */
export function sampleSum(families: Map<string, Family>, family: string, match: Record<string, string> = {}, sample = family): number {
  const f = families.get(family);
  if (!f) return 0;
  let sum = 0;
  for (const s of f.samples) {
    if (s.name !== sample) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** The label names a family's samples carry (without a histogram's `le`). */
export function labelNames(f: Family): string[] {
  const names = new Set<string>();
  for (const s of f.samples) for (const k of Object.keys(s.labels)) if (k !== 'le' || f.type !== 'histogram') names.add(k);
  return [...names].sort();
}
