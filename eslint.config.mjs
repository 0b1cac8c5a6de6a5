// ESLint flat config: typescript-eslint's recommended rules for the TypeScript sources,
// the core recommended set for the plain-JS scripts and for the editor's browser code
// (resources/*.js and the inline <script type="text/javascript"> of nodes/*/*.html,
// through eslint-plugin-html).
import js from '@eslint/js';
import html from 'eslint-plugin-html';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const editorGlobals = { ...globals.browser, RED: 'readonly', $: 'readonly', jQuery: 'readonly', VigilEditor: 'readonly' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.node-red/**', '.nr5/**', 'test-results/**', 'lib/**/static/**', 'nodes/*/locales/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['scripts/**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Editor code runs as classic scripts in the browser, next to Node-RED's own globals.
    files: ['nodes/*/*.html', 'resources/**/*.js'],
    plugins: { html },
    languageOptions: { ecmaVersion: 2020, sourceType: 'script', globals: editorGlobals },
    rules: {
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none' }],
      '@typescript-eslint/no-unused-vars': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
      'no-var': 'off',
      'prefer-const': 'off',
      strict: 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
);
