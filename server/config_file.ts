/**
 * The server's config file (`--config FILE`): a JSON object whose keys are
 * the long flags without their dashes (`"listen": "0.0.0.0:50051"`,
 * `"stop-jobs-on-exit": true`, `"retain-jobs": 20`); flags given on the
 * command line win over it. Unknown keys and values of the wrong type are
 * errors, so a typo never goes unnoticed.
 *
 * @module
 */

/** The flags a file may set, and each one's type. */
export type FlagTypes = Readonly<Record<string, "string" | "boolean">>;

/** Reads `path` against `flags`; throws naming the file and the bad key. */
export async function readConfigFile(
  path: string,
  flags: FlagTypes,
): Promise<Record<string, string | boolean>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (err) {
    throw new Error(`--config ${path}: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`--config ${path}: not a JSON object`);
  }
  const values: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(raw)) {
    const type = Object.hasOwn(flags, key) ? flags[key] : undefined;
    if (!type) {
      throw new Error(
        `--config ${path}: "${key}" is not a setting (know ${
          Object.keys(flags).join(", ")
        })`,
      );
    }
    if (type === "boolean" && typeof value === "boolean") values[key] = value;
    else if (type === "string" && typeof value === "string") {
      values[key] = value;
    } else if (type === "string" && typeof value === "number") {
      values[key] = String(value);
    } else {
      throw new Error(
        `--config ${path}: "${key}" must be ${
          type === "boolean" ? "true or false" : "a string or number"
        }, got ${JSON.stringify(value)}`,
      );
    }
  }
  return values;
}
