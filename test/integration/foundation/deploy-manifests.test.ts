import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { adminEnv, gatewayEnv, loadConfig, webhookEnv, workerEnv } from '@app/config';
import { METHOD_INFO } from '@app/contracts';

/**
 * Issue 17: deploy/k8s renders with `kubectl kustomize` (Debian's
 * kubernetes-client) for every overlay, every object validates against the
 * Kubernetes and KEDA schemas (kubernetes-models), each app's container sets
 * every variable its config requires with values its config accepts, and the
 * shutdown, probe and security rules hold. docker-compose.yml passes
 * `docker compose config` where a compose client exists.
 */
const ROOT = join(__dirname, '..', '..', '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');
const OVERLAYS = ['base', 'overlays/dev', 'overlays/prod'];
const APPS: Record<string, z.ZodRawShape> = { gateway: gatewayEnv, worker: workerEnv, webhook: webhookEnv, admin: adminEnv };

/** Values of the Secret "epos-relay-secrets" that an operator would create: valid examples of each key. */
const SECRET_EXAMPLES: Record<string, string> = {
  DATABASE_URL: 'postgresql://epos:pw@pgbouncer:6432/epos_relay',
  MIGRATION_DATABASE_URL: 'postgresql://epos:pw@postgres:5432/epos_relay',
  DATABASE_LISTEN_URL: 'postgresql://epos_relay_listen:pw@postgres:5432/epos_relay',
  REDIS_URL: 'redis+cluster://redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379',
  EPOS_RELAY_ENCRYPTION_KEY: 'a'.repeat(64),
  METRICS_TOKEN: 'metrics-token-0123456789',
  ADMIN_OPERATOR_TOKENS: 'operator-token-0123456789',
};

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any; data?: Record<string, string> };

function render(dir: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', join(K8S, dir)], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJS() as K8sObject).filter(Boolean);
}

/** The kubernetes-models class for an object's apiVersion and kind. */
function modelOf(o: K8sObject): new (data: unknown) => { validate(): void } {
  const [group, version] = o.apiVersion.includes('/') ? (o.apiVersion.split('/') as [string, string]) : ['', o.apiVersion];
  const mod = group.endsWith('keda.sh') ? `@kubernetes-models/keda/${group}/${version}` : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module path comes from the object's apiVersion
  const Model = (require(mod) as Record<string, new (data: unknown) => { validate(): void }>)[o.kind];
  assert.ok(Model, `a schema for ${o.apiVersion} ${o.kind}`);
  return Model;
}

/** Environment of a container as the kubelet would build it, with the example secret values. */
function containerEnv(c: any, configMaps: Map<string, Record<string, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    const cm = configMaps.get(from.configMapRef?.name);
    assert.ok(cm, `envFrom names an existing ConfigMap (${JSON.stringify(from)})`);
    Object.assign(env, cm);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.secretKeyRef) {
      const v = SECRET_EXAMPLES[e.valueFrom.secretKeyRef.key];
      assert.ok(v, `secret key ${e.valueFrom.secretKeyRef.key} is one the docs list`);
      env[e.name] = v;
    } else if (e.valueFrom?.configMapKeyRef) env[e.name] = configMaps.get(e.valueFrom.configMapKeyRef.name)?.[e.valueFrom.configMapKeyRef.key] ?? '';
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = 'epos-relay-gateway-5d8f7c9b6-x2k4p';
    else assert.fail(`unexpected env source ${JSON.stringify(e)}`);
  }
  return env;
}

describe('deploy/k8s: kustomize overlays, schemas, environment, probes', () => {
  const longestDeadlineMs = Math.max(...Object.values(METHOD_INFO).map((m) => m.deadlineMs));

  for (const dir of OVERLAYS) {
    it(`${dir}: renders, validates against the Kubernetes and KEDA schemas, and wires every app`, () => {
      const objects = render(dir);
      assert.ok(objects.length >= 15, `rendered ${objects.length} objects`);
      for (const o of objects) {
        try {
          new (modelOf(o))(o).validate();
        } catch (err) {
          assert.fail(`${o.kind} ${o.metadata.name}: ${(err as Error).message}`);
        }
      }
      assert.ok(!objects.some((o) => o.kind === 'Secret'), 'no Secret in the manifests: secrets are only referenced');
      const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
      const namespaces = new Set(objects.map((o) => o.metadata.namespace));
      assert.equal(namespaces.size, 1, 'one namespace');

      for (const [app, shape] of Object.entries(APPS)) {
        const dep = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `epos-relay-${app}`);
        assert.ok(dep, `a Deployment for ${app}`);
        const pod = dep.spec.template.spec;
        const c = pod.containers[0];
        const env = containerEnv(c, configMaps);
        assert.equal(env.APP, app);
        // Every variable the app requires is set, and the whole environment is one the app accepts.
        const required = Object.keys(shape).filter((k) => !(shape[k] as z.ZodType).safeParse(undefined).success);
        for (const k of required) assert.ok(env[k] !== undefined, `${app}: ${k} is required and set`);
        const config = loadConfig(shape, env) as Record<string, unknown>;
        assert.equal(String(config.PORT), String(c.ports[0].containerPort), `${app}: PORT is the container port`);
        // Secrets only by reference.
        for (const e of c.env ?? []) if (e.name in SECRET_EXAMPLES) assert.ok(e.valueFrom?.secretKeyRef, `${app}: ${e.name} comes from a Secret`);
        // Probes: liveness and readiness differ, readiness is the draining one.
        assert.equal(c.livenessProbe.httpGet.path, '/health/live');
        assert.equal(c.readinessProbe.httpGet.path, '/health/ready');
        // One failed probe (a busy pool, a Redis blip) must not take every replica out of the Service at once.
        assert.ok(c.readinessProbe.failureThreshold >= 3, `${app}: readiness failureThreshold ${c.readinessProbe.failureThreshold} >= 3`);
        // The grace period covers the drain plus a shutdown that itself outlasts the longest RPC deadline.
        const drain = Number(env.SHUTDOWN_DRAIN_MS);
        const shutdown = Number(env.SHUTDOWN_TIMEOUT_MS);
        assert.ok(shutdown > longestDeadlineMs, `${app}: SHUTDOWN_TIMEOUT_MS ${shutdown} > longest deadline ${longestDeadlineMs}`);
        assert.ok(pod.terminationGracePeriodSeconds * 1000 > drain + shutdown, `${app}: grace period > drain + shutdown`);
        // Non-root, read-only, resources set.
        assert.equal(pod.securityContext.runAsNonRoot, true);
        for (const k of [...(pod.initContainers ?? []), ...pod.containers]) {
          assert.equal(k.securityContext.readOnlyRootFilesystem, true, `${app}/${k.name} read-only`);
          assert.equal(k.securityContext.allowPrivilegeEscalation, false);
          assert.ok(k.resources.requests.cpu && k.resources.requests.memory && k.resources.limits.memory, `${app}/${k.name} resources`);
        }
        assert.ok(pod.initContainers.some((k: any) => containerEnv(k, configMaps).APP === 'migrate'), `${app}: migrates before it starts`);
        // The migrator's credentials (they change the schema) go to the migrator only, never to the app's own container.
        for (const k of pod.containers) {
          const keys = (k.env ?? []).map((e: any) => e.valueFrom?.secretKeyRef?.key as string | undefined);
          assert.ok(!keys.includes('MIGRATION_DATABASE_URL'), `${app}/${k.name}: no MIGRATION_DATABASE_URL`);
        }
        assert.ok(objects.some((o) => o.kind === 'PodDisruptionBudget' && o.spec.selector.matchLabels['app.kubernetes.io/name'] === `epos-relay-${app}`), `${app}: a PDB`);
      }

      const job = objects.find((o) => o.kind === 'Job');
      assert.equal(containerEnv(job!.spec.template.spec.containers[0], configMaps).APP, 'migrate');

      // KEDA scales the workers on the platform's own queue depth endpoint, in this namespace, with the metrics token.
      const so = objects.find((o) => o.kind === 'ScaledObject');
      assert.equal(so!.spec.scaleTargetRef.name, 'epos-relay-worker');
      const trigger = so!.spec.triggers[0];
      assert.equal(trigger.type, 'metrics-api');
      assert.equal(trigger.metadata.valueLocation, 'depth');
      const url = new URL(trigger.metadata.url);
      assert.equal(url.hostname, `epos-relay-worker.${[...namespaces][0] ?? 'epos-relay'}.svc.cluster.local`);
      assert.equal(url.pathname, '/metrics/queue-depth');
      const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'epos-relay-worker');
      assert.equal(String(svc!.spec.ports[0].port), url.port);
      const auth = objects.find((o) => o.kind === 'TriggerAuthentication' && o.metadata.name === trigger.authenticationRef.name);
      assert.equal(auth!.spec.secretTargetRef[0].key, 'METRICS_TOKEN');
      // The webhook and the admin app (the POSes' writes and polls) scale on CPU; the public Ingress never routes /metrics or /health.
      const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
      assert.deepEqual(hpas.map((h) => h.spec.scaleTargetRef.name).sort(), ['epos-relay-admin', 'epos-relay-webhook']);
      for (const hpa of hpas) {
        assert.equal(hpa.spec.metrics[0].resource.name, 'cpu');
        const target = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === hpa.spec.scaleTargetRef.name);
        assert.ok(target?.spec.template.spec.containers[0].resources.requests.cpu, `${hpa.metadata.name}: its Deployment requests CPU (utilization is against it)`);
      }
      // An autoscaled Deployment sets no replicas (each apply, an upgrade included, would scale it back to that count
      // until its autoscaler caught up); the others (the gateways) set theirs.
      const autoscaled = new Set([...hpas, ...objects.filter((o) => o.kind === 'ScaledObject')].map((a) => a.spec.scaleTargetRef.name as string));
      for (const d of objects.filter((o) => o.kind === 'Deployment')) {
        if (autoscaled.has(d.metadata.name)) assert.equal(d.spec.replicas, undefined, `${d.metadata.name}: replicas left to its autoscaler`);
        else assert.ok(Number.isInteger(d.spec.replicas) && d.spec.replicas >= 1, `${d.metadata.name}: replicas set (no autoscaler)`);
      }
      // The apps behind the Ingress keep idle connections longer than ingress-nginx's upstream keep-alive (60 s), so that
      // nginx, not the app, closes them: otherwise a POST sent as the app closes its end gets a 502.
      const backends = new Set(
        objects.filter((o) => o.kind === 'Ingress').flatMap((o) => o.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) => p.backend.service.name as string))),
      );
      assert.ok(backends.size >= 2, [...backends].join(' '));
      for (const name of backends) {
        const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === name)!;
        const dep = objects.find((o) => o.kind === 'Deployment' && o.spec.selector.matchLabels['app.kubernetes.io/name'] === svc.spec.selector['app.kubernetes.io/name'])!;
        const env = containerEnv(dep.spec.template.spec.containers[0], configMaps);
        assert.ok(Number(env.HTTP_KEEP_ALIVE_TIMEOUT_MS) > 60_000, `${dep.metadata.name}: HTTP_KEEP_ALIVE_TIMEOUT_MS ${env.HTTP_KEEP_ALIVE_TIMEOUT_MS} > 60000`);
      }
      const paths = objects.filter((o) => o.kind === 'Ingress').flatMap((o) => o.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) => p.path as string)));
      assert.ok(paths.includes('/webhooks'));
      assert.ok(!paths.some((p) => p === '/' || p.startsWith('/metrics') || p.startsWith('/health')), `public paths: ${paths.join(' ')}`);
    });
  }

  it('the sections of docs/operations.md that deploy/ cites exist (its figures are kept there only)', () => {
    const headings = new Set(readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8').split('\n').filter((l) => l.startsWith('## ')).map((l) => l.slice(3).trim()));
    const files = execFileSync('git', ['ls-files', 'deploy'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter((f) => /\.(ya?ml|md)$/.test(f));
    const cited: string[] = [];
    for (const f of files) {
      for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/docs\/operations\.md,?\s*(?:\\?")([^"\\]+)\\?"/g)) cited.push(`${f}: ${m[1]}`);
    }
    assert.ok(cited.length >= 3, cited.join('; '));
    const missing = cited.filter((c) => !headings.has(c.slice(c.indexOf(': ') + 2)));
    assert.deepEqual(missing, [], `cited sections that docs/operations.md lacks (it has: ${[...headings].join(' | ')})`);
  });

  it('the schema check catches a broken object (sanity check of the validator)', () => {
    const dep = render('base').find((o) => o.kind === 'Deployment')!;
    const broken = structuredClone(dep);
    broken.spec.replicas = 'two';
    assert.throws(() => new (modelOf(broken))(broken).validate());
  });

  it('docker-compose.yml: Postgres is healthy only once it takes TCP connections to the database the migrator uses', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'));
    const url = new URL(compose.services.migrate.environment.DATABASE_URL);
    assert.equal(compose.services.migrate.depends_on.postgres.condition, 'service_healthy');
    const test = [compose.services.postgres.healthcheck.test].flat().join(' ');
    assert.match(test, /\bpg_isready\b/);
    // On a fresh volume the image's init phase runs a server on the Unix socket only: pg_isready without -h passes
    // then, and the migrator's TCP connection is refused (it exits 1, and the apps that wait for it never start).
    const host = /(?:-h|--host)[ =](\S+)/.exec(test)?.[1];
    assert.ok(host && !host.startsWith('/'), `pg_isready over TCP (-h ${host})`);
    assert.equal(/(?:-d|--dbname)[ =](\S+)/.exec(test)?.[1], url.pathname.slice(1));
    assert.equal(/(?:-U|--username)[ =](\S+)/.exec(test)?.[1], url.username);
  });

  it('docker-compose.yml passes `docker compose config` (where a compose client exists)', (t) => {
    const candidates: [string, string[]][] = [
      ['docker', ['compose', '-f', join(ROOT, 'docker-compose.yml'), 'config', '-q']],
      ['docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '-q']],
    ];
    for (const [cmd, args] of candidates) {
      // Without the compose plugin, `docker compose` is an unknown command (and `docker compose version` fails).
      const probe = spawnSync(cmd, cmd === 'docker' ? ['compose', 'version'] : ['version'], { encoding: 'utf8' });
      if (probe.error || probe.status !== 0) continue;
      const own = { EPOS_RELAY_ENCRYPTION_KEY: 'b'.repeat(64), ADMIN_OPERATOR_TOKENS: 'own-operator-token-0123456789' };
      const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...own } });
      assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
      // No secret has a fallback: without them the file does not even load (a fallback would be public).
      for (const missing of Object.keys(own)) {
        const env: NodeJS.ProcessEnv = { ...process.env, ...own };
        delete env[missing];
        const m = spawnSync(cmd, args, { encoding: 'utf8', env });
        assert.notEqual(m.status, 0, `${missing} unset`);
        assert.match(m.stderr, new RegExp(missing), `${missing} named`);
      }
      return;
    }
    t.skip('no docker compose client here (install Docker Compose, or docker-compose on Debian)');
  });
});
