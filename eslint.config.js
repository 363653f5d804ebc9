import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'data',
      'native/bls/build',
      'native/mlkem/build',
      'native/aead/build',
      'coverage',
      'test-artifacts',
      '.tmp',
      '.scratch-*',
      'bench-profiles',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': ['error', { allow: ['error', 'warn'] }],
    },
  },
  { files: ['src/cli/**', 'bench/**', 'scripts/**', 'bin/**'], rules: { 'no-console': 'off' } },
  {
    files: ['bin/**', 'scripts/**', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', fetch: 'readonly', URL: 'readonly' },
    },
  },
  // Tests read loosely typed JSON response bodies.
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
