interface Rule {
  alert?: string;
  record?: string;
  expr?: unknown;
}

/** The rules of a Prometheus rule file ({ groups: [{ name, rules: [...] }] }), refusing anything of another shape. */
export function alertRules(doc: unknown): Rule[] {
  const groups = (doc as { groups?: unknown })?.groups;
  if (!Array.isArray(groups) || groups.length === 0) throw new Error('a rule file has a non-empty "groups" list');
  const out: Rule[] = [];
  for (const g of groups as { name?: unknown; rules?: unknown }[]) {
    if (typeof g?.name !== 'string' || !Array.isArray(g.rules) || g.rules.length === 0) throw new Error('each group has a name and rules');
    out.push(...(g.rules as Rule[]));
  }
  return out;
}

/** Every epos_relay_ metric name the rules' expressions reference, sorted and unique. */
export function alertMetricNames(doc: unknown): string[] {
  const names = new Set<string>();
  for (const r of alertRules(doc)) for (const m of (typeof r.expr === 'string' ? r.expr : '').matchAll(/\b(epos_relay_[a-zA-Z0-9_]+)/g)) names.add(m[1]!);
  return [...names].sort();
}
