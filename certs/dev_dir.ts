import { fileURLToPath } from "node:url";

/**
 * Where `deno task certs` puts the development set: `certs/dev` in the repo.
 * Kept apart from the PKI code so that clients can find the dev certs
 * without loading an X.509 library.
 *
 * The path goes up one level and back into `certs/` so that it is also right
 * from `build/jw.js`, the bundle of `jw` (cli/bundle.sh), whose
 * `import.meta.url` is that file's.
 */
export const DEFAULT_DEV_DIR: string = fileURLToPath(
  new URL("../certs/dev", import.meta.url),
);
