// Lint rules, including the layer rules of ARCHITECTURE.md: core stays pure Node, the renderer
// reaches the core only through types and renderer/src/api.ts.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const DOM_GLOBALS = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'HTMLElement'];

export default defineConfig(
  { ignores: ['node_modules/', 'out/', 'dist/', 'renderer/dist/', 'test-results/', 'playwright-report/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...vue.configs['flat/recommended'],
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bin/*.mjs', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.vue'],
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    files: ['electron/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**', 'bin/**', '*.config.*'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['electron/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'electron/core is pure Node: Electron belongs in electron/main.' }],
          patterns: [
            { group: ['**/renderer/**', 'vue', 'pinia'], message: 'electron/core may not depend on the renderer.' },
            {
              group: ['**/main/**', '**/preload/**', '**/cli/**'],
              message: 'electron/core is bound by the front ends, not the reverse.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', ...DOM_GLOBALS.map((name) => ({ name, message: 'No DOM in electron/core.' }))],
    },
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.vue'],
    ignores: ['renderer/vite.config.ts'],
    languageOptions: { globals: globals.browser },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer reaches the core through src/api.ts only.' }],
          patterns: [
            { group: ['node:*'], message: 'No Node modules in the renderer.' },
            {
              group: ['**/electron/**'],
              allowTypeImports: true,
              message: 'The renderer may import types from electron/core, never runtime code.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/src/**/*.ts', 'renderer/src/**/*.vue'],
    ignores: ['renderer/src/api.ts', 'renderer/src/**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'window', message: 'Only renderer/src/api.ts touches window.' }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
);
