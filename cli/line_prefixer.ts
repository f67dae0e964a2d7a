const NEWLINE = 0x0a;

/**
 * Puts a prefix before every line of a byte stream that arrives in chunks,
 * e.g. `jw logs -t`'s timestamps. A line gets the prefix passed with the
 * chunk that holds its first byte, since the prefixer remembers whether the
 * last chunk ended a line. Use one per output stream: each has its own
 * lines.
 *
 * @example
 * ```ts
 * const stamps = new LinePrefixer();
 * stamps.prefix(new TextEncoder().encode("a\nb"), "1 "); // "1 a\n1 b"
 * stamps.prefix(new TextEncoder().encode("c\n"), "2 "); // "c\n": b's line
 * ```
 */
export class LinePrefixer {
  #atLineStart = true;
  readonly #encoder = new TextEncoder();

  /** `data` with `prefix` before each line that starts in it. */
  prefix(data: Uint8Array, prefix: string): Uint8Array {
    if (data.length === 0) return data;
    const starts: number[] = this.#atLineStart ? [0] : [];
    for (
      let i = data.indexOf(NEWLINE);
      i >= 0 && i + 1 < data.length;
      i = data.indexOf(NEWLINE, i + 1)
    ) {
      starts.push(i + 1);
    }
    this.#atLineStart = data[data.length - 1] === NEWLINE;
    if (starts.length === 0) return data;
    const bytes = this.#encoder.encode(prefix);
    const out = new Uint8Array(data.length + starts.length * bytes.length);
    let from = 0;
    let at = 0;
    for (const start of starts) {
      out.set(data.subarray(from, start), at);
      at += start - from;
      out.set(bytes, at);
      at += bytes.length;
      from = start;
    }
    out.set(data.subarray(from), at);
    return out;
  }
}
