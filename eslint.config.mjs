// Lint as policy (issue 11): type-aware rules that catch lost promises and
// unhandled union cases, plus the import boundaries between apps and libs.
// `npm run lint` runs this and knip; CI runs it before the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const TRANSPORT = ['bullmq', 'ioredis', 'express', 'ws', '@nestjs/platform-express', '@nestjs/platform-ws', '@nestjs/websockets'];

// A lib is reached only through its index (`@app/<lib>`). libs/domain also has
// sanctioned sub-entry points, one per folder with its own index.ts:
// `@app/domain/{admin,counter,dead-letters,events,outbox,payment-intents,retention,rpc,venue}`. Anything deeper, relative paths
// into another lib's folder, and `@app/contracts/...` are refused.
const DOMAIN_ENTRIES = ['admin', 'counter', 'dead-letters', 'events', 'outbox', 'payment-intents', 'retention', 'rpc', 'venue'];
const deepLibImport = {
  regex: `^@app/(?!domain/(?:${DOMAIN_ENTRIES.join('|')})$)[^/]+/.+`,
  message: 'Import another lib through its index (@app/<lib>, or a sanctioned sub-entry @app/domain/<area> that has an index.ts).',
};
const relativeIntoLibs = {
  regex: '^(?:\\.\\./)+libs/',
  message: 'Import a lib through its @app/<lib> alias, not a relative path into libs/.',
};
const relativeOutOfLib = {
  // From libs/<lib>/src/... a relative path that climbs out of src reaches another lib or an app.
  regex: '^(?:\\.\\./){2,}(?:[a-z-]+/src|apps)(?:/|$)',
  message: 'A lib reaches another lib only through @app/<lib>, and never an app.',
};
const libImportsApp = {
  regex: '^(?:\\.\\./)+apps/',
  message: 'libs never import apps.',
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-*/**',
      'node_modules/**',
      'libs/db/src/generated/**',
      'libs/contracts/src/generated/**',
      'bench/results/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // knip.ts sits outside tsconfig.json's folders.
        projectService: { allowDefaultProject: ['knip.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The policy rules of issue 11.
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        // Nest reads constructor parameter types through emitDecoratorMetadata, so a
        // class used only as an injected type must stay a value import.
        { prefer: 'type-imports', fixStyle: 'separate-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],

      // Turned off from recommended-type-checked, with the reason:
      // - no-unsafe-*: JSON payloads, Prisma raw rows and Ajv-validated bodies are
      //   `any`/`unknown` by nature at the edges; hundreds of hits, no bugs found.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // - no-explicit-any: same edges; `as any` is refused in review instead.
      '@typescript-eslint/no-explicit-any': 'off',
      // - require-await: Nest handlers and port implementations are async by contract.
      '@typescript-eslint/require-await': 'off',
      // - tsc's noUnusedLocals already covers locals; parameters named `_x` are fine.
      '@typescript-eslint/no-unused-vars': ['error', { args: 'none', caughtErrors: 'none', varsIgnorePattern: '^_' }],
      // - Nest modules are empty classes carrying decorators.
      '@typescript-eslint/no-extraneous-class': 'off',
      // - `${n}` of a number/bigint in messages and SQL is intended.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true, allowNullish: true }],

      'no-restricted-imports': ['error', { patterns: [deepLibImport, relativeIntoLibs] }],
    },
  },
  {
    // Tests exercise a lib's internals on purpose, so they may import deep paths.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [relativeIntoLibs] }],
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [deepLibImport, relativeOutOfLib, libImportsApp] }],
    },
  },
  {
    // The domain core is transport-free: no queues, Redis, HTTP or socket servers.
    files: ['libs/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: TRANSPORT.map((name) => ({ name, message: 'libs/domain never imports transport; take a port instead.' })),
          patterns: [
            deepLibImport,
            relativeOutOfLib,
            libImportsApp,
            { group: ['@nestjs/platform-*', 'bullmq/*', 'ioredis/*', 'express/*', 'ws/*'], message: 'libs/domain never imports transport; take a port instead.' },
          ],
        },
      ],
    },
  },
);
