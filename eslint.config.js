// @ts-check
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const MODULES = path.join(import.meta.dirname, 'src', 'modules') + path.sep;
const PLATFORM = path.join(import.meta.dirname, 'src', 'platform') + path.sep;

/** Modules reach each other only through `modules/<name>/index.ts`; the platform reaches no module. */
const moduleBoundaries = {
  meta: { type: 'problem', schema: [], messages: { crossModule: '{{why}}' } },
  create(context) {
    const file = context.filename;
    const moduleOf = (p) => (p.startsWith(MODULES) ? p.slice(MODULES.length).split(path.sep)[0] : null);
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), spec);
      const from = moduleOf(file);
      const to = moduleOf(target);
      if (to && file.startsWith(PLATFORM)) {
        context.report({ node, messageId: 'crossModule', data: { why: `platform code must not import a module (${spec})` } });
      } else if (to && from && to !== from && target !== path.join(MODULES, to, 'index.js')) {
        context.report({ node, messageId: 'crossModule', data: { why: `import modules/${to} only through its index.ts, not ${spec}` } });
      }
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: (node) => check({ source: node.source, ...node }),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'bench/results/', 'eslint.config.js', 'scripts/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { opsdeck: { rules: { 'module-boundaries': moduleBoundaries } } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      curly: ['error', 'multi-line'],
      'no-console': 'error',
      'opsdeck/module-boundaries': 'error',
    },
  },
  {
    files: ['**/*.test.ts', 'test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
