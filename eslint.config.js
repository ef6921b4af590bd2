// Typed lint. The rules that matter most in browser code: no floating promises (an un-awaited browser call
// fails silently or after the run ended) and no misused promises.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'checkpoint-results/**', 'test-artifacts/**', 'scripts/transaction.schema.json', '**/.tmp*', '.tmp-fs/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js', 'bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object and a union: enums are not erasable syntax.' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'Namespaces are not erasable syntax.' },
        { selector: 'TSParameterProperty', message: 'Parameter properties are not erasable syntax; assign fields in the constructor.' },
      ],
    },
  },
  {
    // Time in the engine comes from the injected Clock and is bounded by the run's Deadline, so tests can
    // drive it and one cancel reaches every wait.
    files: ['engine/**/*.ts'],
    // The clock itself, and code that runs inside the page (the browser's own clock), read time directly.
    ignores: ['engine/core/clock.ts', 'engine/in-page/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Read time from the injected Clock (core/clock.ts); bound waits with the Deadline (core/deadline.ts).' },
        { object: 'performance', property: 'now', message: 'Read time from the injected Clock (core/clock.ts); bound waits with the Deadline (core/deadline.ts).' },
      ],
    },
  },
  {
    files: ['bin/*.js'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['it', 'describe', 'test', 'before', 'after', 'beforeEach', 'afterEach', 'suite'] }] }],
    },
  },
);
