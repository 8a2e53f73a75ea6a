import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.local/', 'coverage/', 'test-artifacts/', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read config once, in a loadConfig(env) entry point.' }],
    },
  },
  {
    // Entry points are the one place that hands process.env to loadConfig.
    files: ['**/handler.ts', 'frontend/server.ts', 'local/start.ts', 'ops/dlq.ts', 'ops/api-key.ts', 'ops/migrate-orders.ts', 'ops/staff.ts', 'bench/**', 'scripts/**', 'test/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    // Browser scripts, served as they are: no build step, no modules.
    files: ['frontend/public/**/*.js', 'local/console/public/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', fetch: 'readonly', setTimeout: 'readonly', Intl: 'readonly', Number: 'readonly', Date: 'readonly', String: 'readonly', encodeURIComponent: 'readonly', EventSource: 'readonly', JSON: 'readonly', Math: 'readonly' },
    },
  },
);
