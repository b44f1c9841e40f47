/**
 * `haagent import-keepalived FILE [--out FILE]`: the file work around the pure converter
 * (src/core/import/): reads the keepalived.conf and every file its `include` lines name (globs
 * expanded like keepalived's, relative to the including file's directory), looks up commands
 * given without a path on PATH, prints warnings, validates the result as `check-config` would and
 * writes it. Also the hint `check-config` gives when it is handed a keepalived.conf.
 *
 * Globs: `*`, `?` and `[...]` in the last path component (the usual `conf.d/*.conf`); a pattern
 * with a wildcard in a directory component is reported. Bounded: each file by
 * LIMITS.configBytes (refused before reading), MAX_FILES files, MAX_INCLUDE_DEPTH nesting.
 */
import { accessSync, closeSync, constants, fchmodSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { HaagentError } from '../core/errors.js';
import { parseConfigYaml } from '../core/config/yaml.js';
import { includeKey, includePatterns, looksLikeKeepalived, MAX_FILES, MAX_INCLUDE_DEPTH, parseKeepalived, type KaSources } from '../core/import/parse.js';
import { mapKeepalived } from '../core/import/map.js';
import { importYaml } from '../core/import/print.js';
import { readConfigFile } from './config-file.js';
import { EXIT_CODES } from './exit-codes.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A glob's last component as a regular expression (`*`, `?`, `[...]`; a leading dot is not matched by a wildcard). */
function globRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern[i] ?? '';
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) { re += '\\['; continue; }
      const body = pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
      re += `[${body}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${pattern.startsWith('.') ? '' : '(?!\\.)'}${re}$`);
}

/** The files a pattern names, sorted (as glob(3) returns them); a problem text when it cannot be expanded. */
export function expandInclude(pattern: string, fromFile: string): { files: string[] } | { problem: string } {
  const full = isAbsolute(pattern) ? pattern : resolve(dirname(fromFile), pattern);
  const dir = dirname(full);
  const last = basename(full);
  if (/[*?[]/.test(dir)) return { problem: `include ${pattern}: wildcards are supported in the file name only` };
  if (!/[*?[]/.test(last)) return { files: [full] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    // No directory: nothing matches (as for glob(3)); any other error is reported.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [] };
    return { problem: `include ${pattern}: cannot read directory ${dir}: ${(err as Error).message}` };
  }
  const re = globRegex(last);
  return {
    files: names.filter((n) => re.test(n)).sort().map((n) => join(dir, n)).filter((f) => {
      try { return statSync(f).isFile(); } catch { return false; }
    }),
  };
}

/** Reads the main file and everything it includes; include problems are returned as warnings. */
function readSources(file: string): { sources: KaSources; warnings: string[] } {
  const texts = new Map<string, string>();
  const includes = new Map<string, string[]>();
  const warnings: string[] = [];
  const todo: { file: string; depth: number }[] = [{ file, depth: 0 }];
  texts.set(file, readConfigFile(file));
  while (todo.length > 0) {
    const cur = todo.shift();
    if (cur === undefined) break;
    if (cur.depth >= MAX_INCLUDE_DEPTH) continue; // the parser reports the nesting
    for (const { pattern, line } of includePatterns(texts.get(cur.file) ?? '')) {
      const key = includeKey(cur.file, pattern);
      if (includes.has(key)) continue;
      const r = expandInclude(pattern, cur.file);
      if ('problem' in r) { warnings.push(`${cur.file}:${line}: ${r.problem}`); includes.set(key, []); continue; }
      if (r.files.length === 0) warnings.push(`${cur.file}:${line}: include ${pattern}: no file matches`);
      includes.set(key, r.files);
      for (const f of r.files) {
        if (texts.has(f)) continue;
        if (texts.size >= MAX_FILES) throw new HaagentError('HA_ERR_LIMIT', `${cur.file}:${line}: include ${pattern}: more than ${MAX_FILES} files in one import`);
        texts.set(f, readConfigFile(f));
        todo.push({ file: f, depth: cur.depth + 1 });
      }
    }
  }
  return { sources: { main: file, texts, includes }, warnings };
}

/** `name` on PATH (executable regular file), as keepalived would find it; undefined when absent. */
export function findOnPath(name: string, pathEnv = process.env['PATH'] ?? DEFAULT_PATH): string | undefined {
  for (const dir of pathEnv.split(':')) {
    if (!dir.startsWith('/')) continue;
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) { accessSync(p, constants.X_OK); return p; }
    } catch { /* not here */ }
  }
  return undefined;
}

export interface ImportOutcome {
  readonly yaml: string;
  /** One line each, already located (`file:line: option: message`). */
  readonly warnings: readonly string[];
}

/**
 * Converts `file`. Throws HaagentError HA_ERR_CONFIG when the keepalived file cannot be parsed or
 * the converted config does not validate (every problem listed), HA_ERR_LIMIT over a bound.
 */
function importKeepalived(file: string, resolveCommand: (name: string) => string | undefined = (n) => findOnPath(n)): ImportOutcome {
  const { sources, warnings } = readSources(file);
  const parsed = parseKeepalived(sources);
  if (parsed.problems.length > 0) {
    throw new HaagentError('HA_ERR_CONFIG', `${file}: cannot be read as a keepalived config, ${parsed.problems.length} problem(s):\n${parsed.problems.map((p) => `  - ${p.at.file}:${p.at.line}: ${p.message}`).join('\n')}`);
  }
  const result = mapKeepalived(parsed.nodes, { resolveCommand });
  const all = [...warnings, ...result.warnings.map((w) => `${w.at.file}:${w.at.line}: ${w.option}: ${w.message}`)];
  const header = [
    `haagent config imported from ${file} by \`haagent import-keepalived\`.`,
    all.length === 0 ? 'Every keepalived option was mapped.' : `${all.length} keepalived option(s) were NOT MAPPED (or not exactly): see the comments below.`,
    'Review it, then check it on each host with `haagent check-config FILE`.',
  ];
  const yaml = importYaml(result, [...header, ...warnings.map((w) => `NOT MAPPED ${w}`)]);
  const check = parseConfigYaml(yaml);
  if (!check.ok) {
    throw new HaagentError('HA_ERR_CONFIG', `${file}: the converted config does not validate, ${check.errors.length} problem(s) (fix the keepalived file or edit the output):\n${check.errors.map((e) => `  - ${e.message}`).join('\n')}`);
  }
  return { yaml, warnings: all };
}

/**
 * Writes `text` to `file` readable by its owner only (it may hold the VRRP password), whatever
 * mode an existing `file` had: a new 0600 file in the same directory, renamed over `file`. On
 * failure the temporary file is removed and `file` is left as it was.
 */
function writePrivate(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    fchmodSync(fd, 0o600); // the umask cannot widen it, but make the mode explicit
    writeFileSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The CLI command: writes the YAML, prints the warnings, returns the exit status. */
export function runImportKeepalived(file: string, out: string | undefined): number {
  const r = importKeepalived(file);
  for (const w of r.warnings) process.stderr.write(`haagent: warning: ${w}\n`);
  if (out === undefined) process.stdout.write(r.yaml);
  else {
    writePrivate(out, r.yaml);
    process.stderr.write(`haagent: wrote ${out}\n`);
  }
  if (r.warnings.length === 0) return EXIT_CODES.ok;
  process.stderr.write(`haagent: ${r.warnings.length} option(s) not mapped (exit status ${EXIT_CODES.importUnmapped})\n`);
  return EXIT_CODES.importUnmapped;
}

/**
 * `err` with a hint appended when `file` looks like a keepalived.conf (check-config was handed
 * one); otherwise `err` unchanged. Reads the file only for a config error.
 */
export function withKeepalivedHint(err: unknown, file: string): unknown {
  if (!(err instanceof HaagentError) || err.code !== 'HA_ERR_CONFIG') return err;
  let text: string;
  try { text = readConfigFile(file); } catch { return err; }
  if (!looksLikeKeepalived(text)) return err;
  return new HaagentError('HA_ERR_CONFIG', `${file} is a keepalived config, not a haagent one: convert it with \`haagent import-keepalived ${file}\`\n${err.message}`, { cause: err });
}
