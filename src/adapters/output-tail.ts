/**
 * The last `limit` bytes of a byte stream (a child's output), without splitting a UTF-8
 * character at its start. Memory stays within about twice `limit`; a limit of 0 keeps nothing.
 * Deliberately not done: decoding checks beyond the cut (invalid UTF-8 in the kept bytes comes
 * out as U+FFFD, as Buffer.toString gives it).
 */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    if (this.limit === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > 2 * this.limit) this.compact();
  }

  text(): string {
    this.compact();
    const buf = this.chunks[0] ?? Buffer.alloc(0);
    let start = 0;
    // Skip UTF-8 continuation bytes (10xxxxxx) left over from a character cut by the limit.
    while (start < buf.length && start < 3 && ((buf[start] ?? 0) & 0xc0) === 0x80) start++;
    return buf.subarray(start).toString('utf8');
  }

  private compact(): void {
    const all = Buffer.concat(this.chunks);
    const kept = all.length > this.limit ? all.subarray(all.length - this.limit) : all;
    this.chunks = [kept];
    this.size = kept.length;
  }
}
