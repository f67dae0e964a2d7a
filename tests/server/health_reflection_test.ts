/** Standard services: grpc.health.v1 and server reflection v1/v1alpha. */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import {
  Health,
  HealthCheckResponse_ServingStatus as Serving,
} from "../../gen/grpc/health/v1/health_pb.ts";
import {
  ServerReflection as ReflectionV1,
  type ServerReflectionResponse,
  ServerReflectionResponseSchema,
} from "../../gen/grpc/reflection/v1/reflection_pb.ts";
import {
  ServerReflection as ReflectionV1alpha,
  ServerReflectionResponseSchema as ResponseV1alphaSchema,
} from "../../gen/grpc/reflection/v1alpha/reflection_pb.ts";
import { serviceDefinition } from "../../server/service_definition.ts";
import { clientCredentials } from "./client.ts";
import { startTestServer, type TestServer } from "./test_server.ts";

// deno-lint-ignore no-explicit-any
type Untyped = any;

async function clientFor(
  server: TestServer,
  service: DescService,
): Promise<Untyped> {
  const Client = grpc.makeGenericClientConstructor(
    serviceDefinition(service),
    service.name,
  );
  return new Client(
    server.address,
    clientCredentials(server.ca, await server.pem("bob")),
  );
}

/** Asks reflection questions on one stream; answers come back as v1 messages. */
async function reflect(
  client: Untyped,
  questions: object[],
  alpha = false,
): Promise<ServerReflectionResponse[]> {
  const call = client.serverReflectionInfo();
  const answers: ServerReflectionResponse[] = [];
  const done = (async () => {
    for await (const answer of call) {
      answers.push(
        alpha
          ? fromBinary(
            ServerReflectionResponseSchema,
            toBinary(ResponseV1alphaSchema, answer),
          )
          : answer,
      );
    }
  })();
  for (const question of questions) call.write(question);
  call.end();
  await done;
  return answers;
}

Deno.test("health and reflection", async (t) => {
  await using server = await startTestServer();

  await t.step(
    "health check answers SERVING for the server and the API",
    async () => {
      const health = await clientFor(server, Health);
      try {
        for (const service of ["", "jobworker.v1.JobWorker"]) {
          const answer = await new Promise<Untyped>((resolve, reject) =>
            health.check(
              { service },
              (err: unknown, res: unknown) => err ? reject(err) : resolve(res),
            )
          );
          assert.equal(answer.status, Serving.SERVING);
        }
        const unknown = await new Promise<grpc.ServiceError>((resolve) =>
          health.check(
            { service: "nope.Nope" },
            (err: grpc.ServiceError) => resolve(err),
          )
        );
        assert.equal(unknown.code, grpc.status.NOT_FOUND);
      } finally {
        health.close();
      }
    },
  );

  for (
    const [version, service] of [["v1", ReflectionV1], [
      "v1alpha",
      ReflectionV1alpha,
    ]] as const
  ) {
    await t.step(
      `reflection ${version} lists the services and serves their files`,
      async () => {
        const client = await clientFor(server, service);
        try {
          const [list, file, method, missing] = await reflect(client, [
            { messageRequest: { case: "listServices", value: "" } },
            {
              messageRequest: {
                case: "fileContainingSymbol",
                value: "jobworker.v1.JobWorker",
              },
            },
            {
              messageRequest: {
                case: "fileContainingSymbol",
                value: "jobworker.v1.JobWorker.Logs",
              },
            },
            { messageRequest: { case: "fileByFilename", value: "nope.proto" } },
          ], version === "v1alpha");
          assert.equal(list.messageResponse.case, "listServicesResponse");
          const names = list.messageResponse.value.service.map((s) => s.name);
          assert.ok(names.includes("jobworker.v1.JobWorker"));
          assert.ok(names.includes("grpc.health.v1.Health"));
          for (const answer of [file, method]) {
            assert.equal(answer.messageResponse.case, "fileDescriptorResponse");
            const files = answer.messageResponse.value.fileDescriptorProto.map((
              bytes,
            ) => fromBinary(FileDescriptorProtoSchema, bytes));
            assert.equal(files[0].name, "jobworker/v1/jobworker.proto");
            assert.equal(files[0].service[0].name, "JobWorker");
            assert.ok(
              files.some((f) => f.name === "google/protobuf/timestamp.proto"),
            );
          }
          assert.equal(missing.messageResponse.case, "errorResponse");
          assert.equal(
            missing.messageResponse.value.errorCode,
            grpc.status.NOT_FOUND,
          );
        } finally {
          client.close();
        }
      },
    );
  }
});
