/**
 * Imported first by main.ts, so it runs before any other module is loaded: for `haagent start`
 * it applies the agent's heap settings (src/daemon/heap-tuning.ts) while the heap is still
 * small. Loading the modules and the config is the first burst of surviving allocation, which
 * would otherwise grow V8's young generation to its maximum before the agent runs. Other
 * commands are short-lived and keep V8's defaults.
 */
import { tuneHeapForDaemon } from '../daemon/heap-tuning.js';

if (process.argv[2] === 'start') tuneHeapForDaemon();
