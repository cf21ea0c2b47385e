import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge } from 'prom-client';
import { parse } from 'yaml';
import {
  announcementMetrics,
  retentionMetrics,
  dojoApiMetrics,
  enableDefaultMetrics,
  gatewayMetrics,
  metricsRegistry,
  pipelineMetrics,
  queueMetrics,
  webhookMetrics,
  workerMetrics,
} from '@app/common';
import { QueueName } from '@app/queue';
import { alertMetricNames, alertRules } from '../../support/alert-rules';

const FILE = join(__dirname, '../../../../deploy/prometheus/alerts.yml');
const OPERATIONS = join(__dirname, '../../../../docs/operations.md');

describe('deploy/prometheus/alerts.yml', () => {
  const doc = parse(readFileSync(FILE, 'utf8'));

  it('parses as a Prometheus rule file whose alerts each have an expression, a duration, a severity and a summary', () => {
    const rules = alertRules(doc);
    assert.ok(rules.length >= 8, `${rules.length} rules`);
    const names = new Set<string>();
    for (const r of rules as Record<string, any>[]) {
      assert.equal(typeof r.alert, 'string', JSON.stringify(r));
      assert.ok(!names.has(r.alert), `alert ${r.alert} defined twice`);
      names.add(r.alert);
      assert.equal(typeof r.expr, 'string', r.alert);
      assert.match(String(r.for), /^\d+[smh]$/, `${r.alert} has a for: duration`);
      assert.ok(['page', 'ticket'].includes(r.labels?.severity), `${r.alert} has a severity`);
      assert.equal(typeof r.annotations?.summary, 'string', `${r.alert} has a summary`);
    }
  });

  it('references only metrics defined in libs/common/src/metrics.ts', async () => {
    enableDefaultMetrics();
    for (const group of [gatewayMetrics, workerMetrics, queueMetrics, pipelineMetrics, webhookMetrics, dojoApiMetrics, announcementMetrics, retentionMetrics]) group();
    const defined = new Set<string>();
    for (const m of await metricsRegistry.getMetricsAsJSON()) {
      defined.add(m.name);
      if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) defined.add(m.name + s);
    }
    const referenced = alertMetricNames(doc);
    assert.ok(referenced.includes('epos_relay_dead_letters'), 'the dead letters are alerted on');
    for (const wanted of ['epos_relay_gateway_links', 'epos_relay_queue_jobs', 'epos_relay_webhook_rejected_total', 'epos_relay_worker_deadline_misses_total']) {
      assert.ok(referenced.includes(wanted), `an alert on ${wanted}`);
    }
    const unknown = referenced.filter((n) => !defined.has(n));
    assert.deepEqual(unknown, []);
  });

  it('aggregates the gauges every worker replica reports alike (read from Postgres or Redis) with max, never sum', () => {
    // Each worker reads the same queue counts and backlog at scrape time: summed over replicas they multiply by the worker count.
    const shared = [...Object.values(queueMetrics()), ...Object.values(pipelineMetrics())]
      .filter((m): m is Gauge => m instanceof Gauge)
      .map((g) => (g as unknown as { name: string }).name);
    assert.ok(shared.includes('epos_relay_dead_letters') && shared.includes('epos_relay_queue_jobs'), shared.join(' '));
    const wrapped = /(?:\bmax(?:\s+(?:by|without)\s*\([^()]*\))?\s*\(|\babsent\s*\()\s*$/;
    const wrong: string[] = [];
    for (const r of alertRules(doc)) {
      const expr = typeof r.expr === 'string' ? r.expr : '';
      for (const m of expr.matchAll(/\bepos_relay_[a-zA-Z0-9_]+/g)) {
        if (shared.includes(m[0]) && !wrapped.test(expr.slice(0, m.index))) wrong.push(`${r.alert}: ${m[0]}`);
      }
    }
    assert.deepEqual(wrong, [], 'each is read inside max(...) / max by (...) (...) (or absent(...))');
  });

  it('pages when the gateway, the worker or the webhook app is gone altogether (absent() of a metric of its own)', () => {
    // With every replica of an app down its series vanish, and the rules on them are silent rather than firing.
    const absent = (alertRules(doc) as Record<string, any>[])
      .filter((r) => r.labels?.severity === 'page')
      .flatMap((r) => [...String(r.expr).matchAll(/\babsent\s*\(\s*(epos_relay_[a-zA-Z0-9_]+)/g)].map((m) => m[1]!));
    const namesOf = (...groups: (() => object)[]) =>
      groups.flatMap((g) => Object.values(g()).flatMap((m: unknown) => (m && typeof m === 'object' && typeof (m as { name?: unknown }).name === 'string' ? [(m as { name: string }).name] : [])));
    const apps: Record<string, string[]> = {
      gateway: namesOf(gatewayMetrics),
      worker: namesOf(workerMetrics, queueMetrics, pipelineMetrics, retentionMetrics),
      webhook: namesOf(webhookMetrics),
    };
    for (const [app, names] of Object.entries(apps)) {
      assert.ok(names.length >= 3, `${app}: ${names.join(' ')}`);
      assert.ok(absent.some((n) => names.includes(n)), `${app}: a page rule on absent() of one of its metrics (rules watch: ${absent.join(', ') || 'none'})`);
    }
  });

  it('alerts on a pay-at-counter settlement that keeps retrying, with a runbook in docs/operations.md', () => {
    // Its job retries for about 3 days and is then removed a day later: the failed state alone comes too late.
    const retrying = (alertRules(doc) as Record<string, any>[]).filter((r) =>
      [...String(r.expr).matchAll(/\bepos_relay_queue_jobs\s*\{([^}]*)\}/g)].some(
        ([, sel]) => sel!.includes(`queue="${QueueName.Counter}"`) && /\bstate\s*=~?\s*"([^"]*)"/.exec(sel!)?.[1]?.split('|').includes('delayed'),
      ),
    );
    assert.equal(retrying.length, 1, 'one rule on the counter-settle queue\'s delayed jobs');
    const rule = retrying[0]!;
    assert.ok(/^\d+m$/.test(String(rule.for)) && parseInt(String(rule.for), 10) <= 15, `fires within minutes (for: ${rule.for})`);
    const runbook = /docs\/operations\.md, "([^"]+)"/.exec(String(rule.annotations?.description))?.[1];
    assert.ok(runbook, 'the description names its runbook section');
    assert.ok(readFileSync(OPERATIONS, 'utf8').split('\n').includes(`## ${runbook}`), `docs/operations.md has a section "${runbook}"`);
  });

  it("never pages for a venue whose key Dojo refuses (auth_failed): that is a ticket", () => {
    /** Whether an expression selects gateway links in the state auth_failed by a positive state matcher. */
    const selectsAuthFailed = (expr: string) =>
      [...expr.matchAll(/\bepos_relay_gateway_links\s*\{([^}]*)\}/g)].some((sel) =>
        [...sel[1]!.matchAll(/\bstate\s*(=~|=|!=|!~)\s*"([^"]*)"/g)].some(
          ([, op, v]) => (op === '=' && v === 'auth_failed') || (op === '=~' && new RegExp(`^(?:${v})$`).test('auth_failed')),
        ),
      );
    const rules = alertRules(doc) as Record<string, any>[];
    const paging = rules.filter((r) => r.labels?.severity === 'page' && selectsAuthFailed(String(r.expr))).map((r) => r.alert as string);
    assert.deepEqual(paging, [], 'one revoked key would page for as long as the venue keeps it');
    assert.ok(
      rules.some((r) => r.labels?.severity === 'ticket' && selectsAuthFailed(String(r.expr))),
      'a ticket for links in auth_failed',
    );
  });
});
