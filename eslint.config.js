// ESLint flat config: typescript-eslint's type-aware rules over src/, test/, bench/ and scripts/.
// Formatting is Prettier's job (.prettierrc.json); nothing here checks layout.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'test/artifacts/', 'bench/results/', '.lockstep/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        // Each file is checked with the tsconfig.json nearest to it (root, src/ui, test, bench), so
        // the dashboard gets DOM types and the server Node's. Plain .mjs scripts have none: they get
        // TypeScript's default project.
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs', 'bench/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      // `options.log as FastifyBaseLogger` (src/api/server.ts) looks redundant but picks fastify()'s
      // logger type parameter: without it the instance no longer fits FastifyInstance (typecheck fails).
      '@typescript-eslint/no-unnecessary-type-assertion': ['error', { typesToIgnore: ['FastifyBaseLogger'] }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/ui/**/*.ts'], languageOptions: { globals: globals.browser } },
);
