// typescript-eslint flat config. The core (src/core/**) must stay pure: no I/O
// modules, no timers, no wall clock. The shell feeds it time as `nowMs`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'fs', 'fs/promises', 'net', 'dgram', 'child_process', 'os', 'http', 'https',
  'cluster', 'worker_threads', 'dns', 'tls', 'process', 'timers', 'timers/promises',
  'readline', 'perf_hooks',
];
const forbiddenImports = [
  ...ioModules, ...ioModules.map((m) => `node:${m}`),
  'raw-socket', 'netlink', 'pino', 'commander',
];

// The layers, bottom up: a file may import its own layer and those below, never one above.
// cli and lab sit side by side at the top (cli may start the lab; the lab uses no cli code).
const LAYERS = ['core', 'adapters', 'daemon'];
function layersAbove(layer) {
  const above = LAYERS.slice(LAYERS.indexOf(layer) + 1);
  return [...above.map((l) => `**/${l}/**`), '**/cli/**', '**/lab/**'];
}
const layerRule = (layer, above) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{ group: above, message: `src/${layer} must not import a layer above it (core <- adapters <- daemon <- cli, lab beside cli).` }],
    }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', '.tap/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', require: 'readonly', module: 'writable' } },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': ['error', {
        paths: forbiddenImports.map((name) => ({ name, message: 'src/core is pure: I/O belongs in src/adapters or src/daemon.' })),
        patterns: [{ group: layersAbove('core'), message: 'src/core imports only src/core (layers: core <- adapters <- daemon <- cli, lab beside cli).' }],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'src/core has no timers: return an arm-timer effect.' },
        { name: 'setInterval', message: 'src/core has no timers: return an arm-timer effect.' },
        { name: 'setImmediate', message: 'src/core has no timers.' },
        { name: 'clearTimeout', message: 'src/core has no timers.' },
        { name: 'clearInterval', message: 'src/core has no timers.' },
        { name: 'queueMicrotask', message: 'src/core is synchronous.' },
        { name: 'Date', message: 'src/core has no wall clock: use the injected nowMs.' },
        { name: 'performance', message: 'src/core has no clock: use the injected nowMs.' },
        { name: 'process', message: 'src/core does not touch the process.' },
        { name: 'require', message: 'src/core uses static imports only.' },
        { name: 'fetch', message: 'src/core does no I/O.' },
        { name: 'console', message: 'src/core never logs: return an effect.' },
      ],
    },
  },
  layerRule('adapters', layersAbove('adapters')),
  layerRule('daemon', layersAbove('daemon')),
  layerRule('lab', ['**/cli/**']),
);
