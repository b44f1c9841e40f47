/**
 * Bounds on a config, checked before any work that grows faster than the input (duplicate
 * checks, per-entry parsing, alias expansion), so an oversized or hostile file is refused in
 * milliseconds with one message per bound, and a refused reload cannot stall a running agent.
 *
 * Each bound is far above what a real deployment writes and is documented in the README.
 * Over a bound the problem is a ConfigLimitError (code HA_ERR_LIMIT).
 */
import { ConfigError } from '../errors.js';

export const LIMITS = Object.freeze({
  /**
   * File size, checked on the file's size before it is read (and on the text's length). Real
   * configs are tens of KiB; parsing a file at this bound that passes the YAML bounds below still
   * costs about half a second of CPU (the `yaml` package parses ~2 MB/s), during which a
   * reloading agent does not advertise.
   */
  configBytes: 1024 * 1024,
  /** YAML nesting depth (the deepest real key, a real server's check command, is at 9). */
  yamlDepth: 32,
  /** Entries of any one YAML list or mapping, checked while parsing: a huge list stops the parse. */
  yamlEntries: 1024,
  /** Alias nodes (`*name`) in the file. */
  yamlAliases: 1024,
  /** Alias resolutions the `yaml` package allows (its `maxAliasCount`): stops "billion laughs". */
  yamlAliasExpansion: 1024,
  /** Values in the document once aliases are expanded (what validation walks). */
  yamlValues: 262_144,
  /** Problems reported for one file; the rest are counted in one closing line. */
  reportedProblems: 50,
  /**
   * Instances of one agent: 255 VRIDs per interface and address family, times the two families,
   * rounded up (each instance costs timers and sockets, and the benchmark runs 255).
   */
  instances: 512,
  /** VIPs of one instance: the advertisement's address count is one byte (RFC 9568 §5.2.5). */
  vips: 255,
  /** Unicast peers of one instance. */
  peers: 64,
  /** Health checks of one instance. */
  checks: 32,
  /** Arguments of one hook or exec check command. */
  argv: 64,
  /** Extra heartbeat paths of one instance. */
  paths: 16,
  /** Witnesses of one instance. */
  witnesses: 16,
  /** `environment:` entries of one instance. */
  environmentEntries: 64,
  /** Alert targets of one config. */
  alertTargets: 16,
  /** Virtual services of one instance. */
  virtualServices: 64,
  /** Real servers of one virtual service. */
  realServers: 256,
  /** Status codes an http check accepts. */
  expectStatus: 32,
  /** Any string value (a path, a URL, a command argument, a key). */
  stringChars: 4096,
  /** An instance name (it appears in logs, metrics labels and state file names). */
  nameChars: 64,
});

/** An over-a-bound problem in a config: a ConfigError whose code is HA_ERR_LIMIT. */
export class ConfigLimitError extends ConfigError {
  override readonly code = 'HA_ERR_LIMIT' as const;
}
