/**
 * Runs a flow against a running Dojo sandbox and prints each step as it completes.
 *
 *   npm run flow -- <flowName> [--sandbox http://127.0.0.1:4010] [--account acc_demo] [--table T1] [--param k=v ...]
 *
 * Exit code 0 when the flow succeeds, 1 when it fails or times out, 2 on usage errors.
 */
interface Step {
  name: string;
  status: string;
  additionalInformation?: string[];
  method?: string;
  ms?: number;
  finishedAt?: string;
}
interface Flow {
  flowID: string;
  flowName: string;
  status: string;
  steps?: Step[];
}

function parseArgs(argv: string[]) {
  const out = { flow: '', sandbox: 'http://127.0.0.1:4010', account: 'acc_demo', params: {} as Record<string, string>, timeoutMs: 120_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--sandbox') out.sandbox = next();
    else if (a === '--account') out.account = next();
    else if (a === '--table') out.params.tableId = next();
    else if (a === '--timeout') out.timeoutMs = Number(next()) * 1000;
    else if (a === '--param') {
      const [k, ...v] = next().split('=');
      out.params[k] = v.join('=');
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (!out.flow) out.flow = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  return out;
}

const COLOR = process.stdout.isTTY;
const paint = (code: number, s: string) => (COLOR ? `\x1b[${code}m${s}\x1b[0m` : s);
const mark = (status: string) => (status === 'SUCCESS' ? paint(32, 'ok  ') : status === 'TIMED_OUT' ? paint(33, 'TIME') : paint(31, 'FAIL'));

async function http<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init?.headers ?? {}) } });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
    if (!args.flow) throw new Error('a flow name is required');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: npm run flow -- <flowName> [--sandbox URL] [--account ID] [--table ID] [--param k=v]\n`);
    const base = process.argv.includes('--sandbox') ? process.argv[process.argv.indexOf('--sandbox') + 1] : 'http://127.0.0.1:4010';
    try {
      const flows = await http<{ name: string; description: string }[]>(`${base}/flows`);
      process.stderr.write(`flows: ${flows.map((f) => f.name).join(', ')}\n`);
    } catch {
      /* sandbox not reachable; usage is enough */
    }
    return 2;
  }
  const base = args.sandbox.replace(/\/$/, '');
  const flowId = await http<string>(`${base}/flows`, {
    method: 'POST',
    body: JSON.stringify({ flow: args.flow, params: { accountId: args.account, ...args.params } }),
  });
  process.stdout.write(`flow ${args.flow} ${flowId} on ${args.account}\n`);
  const printed = new Set<number>();
  const deadline = Date.now() + args.timeoutMs;
  for (;;) {
    const flow = await http<Flow>(`${base}/flows/${flowId}`);
    (flow.steps ?? []).forEach((s, i) => {
      if (printed.has(i) || s.status === 'IN_PROGRESS') return;
      printed.add(i);
      const ms = s.ms !== undefined ? `${s.ms.toFixed(1).padStart(7)} ms` : ''.padStart(10);
      process.stdout.write(`  ${mark(s.status)} ${s.name.padEnd(44)} ${ms}  ${(s.additionalInformation ?? []).join('; ')}\n`);
    });
    if (flow.status !== 'IN_PROGRESS') {
      process.stdout.write(`${flow.status === 'SUCCESS' ? paint(32, 'SUCCESS') : paint(31, flow.status)}\n`);
      return flow.status === 'SUCCESS' ? 0 : 1;
    }
    if (Date.now() > deadline) {
      process.stdout.write(paint(33, 'gave up waiting for the flow\n'));
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);
