/** The error of a whole config file that cannot be used (start, check-config, reload). */
import { HaagentError, type ConfigError } from '../errors.js';

/**
 * A config that cannot be used, with every problem found. Its code is HA_ERR_LIMIT when a
 * problem is over a bound (size, count, depth), HA_ERR_CONFIG otherwise.
 */
export class ConfigInvalidError extends HaagentError {
  constructor(readonly source: string, readonly errors: readonly ConfigError[]) {
    super(errors.some((e) => e.code === 'HA_ERR_LIMIT') ? 'HA_ERR_LIMIT' : 'HA_ERR_CONFIG',
      `${source}: ${errors.length} problem(s):\n${errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
}
