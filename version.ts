/**
 * jobworker's version, shown by `jobworker --version` and `jw --version`.
 *
 * @module
 */
export const VERSION = "0.5.0";

/** `NAME VERSION (Deno D, V8 V, TypeScript T)`. */
export function versionLine(name: string): string {
  const { deno, v8, typescript } = Deno.version;
  return `${name} ${VERSION} (Deno ${deno}, V8 ${v8}, TypeScript ${typescript})`;
}
