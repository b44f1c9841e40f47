/**
 * File check: the file holds one integer (surrounding whitespace allowed, may be negative) that
 * is added to the priority while the check is healthy. Missing, unreadable or unparsable -> a
 * failure. Only the first 4 KiB are read.
 */
import { open } from 'node:fs/promises';
import type { CheckConfig } from '../../core/config/types.js';
import { abortDetail, errorText, stopwatch, type CheckResult } from './common.js';

export type FileCheck = Extract<CheckConfig, { type: 'file' }>;

const MAX_BYTES = 4096;

/** The integer in `text`, or a reason it is not one. */
export function parseFileValue(text: string): { ok: true; value: number } | { ok: false; reason: string } {
  const trimmed = text.trim();
  if (!/^[+-]?\d{1,15}$/.test(trimmed)) {
    const shown = trimmed.length > 40 ? `${trimmed.slice(0, 40)}...` : trimmed;
    return { ok: false, reason: trimmed === '' ? 'is empty, expected an integer' : `${JSON.stringify(shown)} is not an integer` };
  }
  return { ok: true, value: Number(trimmed) };
}

export async function run(check: FileCheck, signal: AbortSignal): Promise<CheckResult> {
  const elapsed = stopwatch();
  if (signal.aborted) return { ok: false, detail: `${check.path}: ${abortDetail(signal, check.timeoutMs)}`, latencyMs: elapsed() };
  let text: string;
  try {
    const fh = await open(check.path, 'r');
    try {
      const buf = Buffer.alloc(MAX_BYTES);
      const { bytesRead } = await fh.read(buf, 0, MAX_BYTES, 0);
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    return { ok: false, detail: `read ${check.path}: ${errorText(err)}`, latencyMs: elapsed() };
  }
  if (signal.aborted) return { ok: false, detail: `${check.path}: ${abortDetail(signal, check.timeoutMs)}`, latencyMs: elapsed() };
  const parsed = parseFileValue(text);
  if (!parsed.ok) return { ok: false, detail: `${check.path}: ${parsed.reason}`, latencyMs: elapsed() };
  return { ok: true, detail: `${check.path}: ${parsed.value}`, latencyMs: elapsed(), value: parsed.value };
}
