/**
 * Runs a flow against a running Dojo sandbox and prints each step as it completes.
 *
 *   npm run flow -- <flowName> [--sandbox http://127.0.0.1:4010] [--account acc_demo] [--table T1] [--param k=v ...]
 *
 * Exit code 0 when the flow succeeds, 1 when it fails or times out, 2 on usage errors.
 */
import { formatStep, listFlows, paint, watchFlow } from '@app/dojo-sandbox';

function parseArgs(argv: string[]) {
  const out = { flow: '', sandbox: 'http://127.0.0.1:4010', account: 'acc_demo', params: {} as Record<string, string>, timeoutMs: 120_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
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
      const [k = '', ...v] = next().split('=');
      out.params[k] = v.join('=');
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (!out.flow) out.flow = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  return out;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
    if (!args.flow) throw new Error('a flow name is required');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: npm run flow -- <flowName> [--sandbox URL] [--account ID] [--table ID] [--param k=v]\n`);
    const base = (process.argv.includes('--sandbox') ? process.argv[process.argv.indexOf('--sandbox') + 1] : undefined) ?? 'http://127.0.0.1:4010';
    try {
      const flows = await listFlows(base);
      process.stderr.write(`flows: ${flows.map((f) => f.name).join(', ')}\n`);
    } catch {
      /* sandbox not reachable; usage is enough */
    }
    return 2;
  }
  const status = await watchFlow({
    sandboxUrl: args.sandbox,
    flow: args.flow,
    params: { accountId: args.account, ...args.params },
    timeoutMs: args.timeoutMs,
    onStart: (flowId) => process.stdout.write(`flow ${args.flow} ${flowId} on ${args.account}\n`),
    onStep: (step) => process.stdout.write(`${formatStep(step)}\n`),
  });
  if (status === 'GAVE_UP') process.stdout.write(paint(33, 'gave up waiting for the flow\n'));
  else process.stdout.write(`${status === 'SUCCESS' ? paint(32, 'SUCCESS') : paint(31, status)}\n`);
  return status === 'SUCCESS' ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);
