/**
 * Escapes what would act on a terminal instead of showing on it: C0 and C1
 * control characters and DEL as `\xNN`, Unicode bidirectional controls as
 * `\uNNNN`. Jobs' commands, names and errors come from other users; printed
 * raw, an ESC sequence could recolour an admin's terminal or a `\r` forge a
 * row of `jw ls` (`ls -b` and `docker ps` escape the same way).
 *
 * @example
 * ```ts
 * escapeControls("a\x1b[31mb"); // "a\\x1b[31mb"
 * ```
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, escapeOne);
}

/** Whether `text` holds anything {@link escapeControls} would change. */
export function hasControls(text: string): boolean {
  CONTROLS.lastIndex = 0;
  const found = CONTROLS.test(text);
  CONTROLS.lastIndex = 0;
  return found;
}

const CONTROLS =
  // deno-lint-ignore no-control-regex
  /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}
