import { toJson } from "@bufbuild/protobuf";
import {
  Role,
  WhoAmIResponseSchema,
} from "../../gen/jobworker/v1/jobworker_pb.ts";
import type { JobWorkerClient } from "../jobworker_client.ts";
import type { Output } from "../output.ts";

const ROLE_WORDS: Record<Role, string> = {
  [Role.UNSPECIFIED]: "unknown",
  [Role.USER]: "user",
  [Role.ADMIN]: "admin",
};

/** `jw whoami`: `alice (user)`, or the response as JSON. */
export async function whoami(
  client: JobWorkerClient,
  json: boolean,
  output: Output,
): Promise<number> {
  const response = await client.whoAmI();
  await output.out(
    json
      ? JSON.stringify(toJson(WhoAmIResponseSchema, response)) + "\n"
      : `${response.user} (${ROLE_WORDS[response.role] ?? "unknown"})\n`,
  );
  return 0;
}
