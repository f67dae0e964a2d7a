import { fileURLToPath } from "node:url";

/**
 * Where `deno task certs` puts the development set: `certs/dev` in the repo.
 * Kept apart from the PKI code so that clients can find the dev certs
 * without loading an X.509 library.
 */
export const DEFAULT_DEV_DIR: string = fileURLToPath(
  new URL("./dev", import.meta.url),
);
