"""A third-party client for the through-the-API benchmarks: Python grpcio
(Debian's python3-grpcio) on one warm mTLS channel, with messages from
protoc --python_out (no generated service stubs needed).

Usage: python3 _grpcio_client.py PB_DIR ADDRESS CERTS_DIR USER MODE ARGS...
  start ROUNDS WARMUP [PAUSE_MS]
                        Start `true` ROUNDS + WARMUP times, one after the
                        other (earlier jobs end meanwhile; PAUSE_MS between
                        calls lets them end first); prints one JSON
                        line: {"ms": [...], "ids": [...]} for the measured
                        rounds
  whoami ROUNDS         WhoAmI ROUNDS times after 20 warm-up calls (the
                        floor of a call: TLS, HTTP/2, identity, no work);
                        prints {"ms": [...]}
"""

import json
import sys
import time

pb_dir, address, certs, user, mode, *args = sys.argv[1:]
sys.path.insert(0, pb_dir)

import grpc  # noqa: E402
from jobworker.v1 import jobworker_pb2 as pb  # noqa: E402


def read(name):
    with open(f"{certs}/{name}", "rb") as f:
        return f.read()


credentials = grpc.ssl_channel_credentials(
    root_certificates=read("ca.pem"),
    private_key=read(f"{user}.key"),
    certificate_chain=read(f"{user}.pem"),
)
options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
channel = grpc.secure_channel(address, credentials, options)
grpc.channel_ready_future(channel).result(timeout=10)
service = "/jobworker.v1.JobWorker/"


def unary(method, request_type, response_type):
    return channel.unary_unary(
        service + method,
        request_serializer=request_type.SerializeToString,
        response_deserializer=response_type.FromString,
    )


if mode == "start":
    rounds, warmup = int(args[0]), int(args[1])
    start = unary("Start", pb.StartRequest, pb.StartResponse)
    times, ids = [], []
    pause = float(args[2]) / 1000 if len(args) > 2 else 0
    for i in range(rounds + warmup):
        time.sleep(pause)
        t0 = time.perf_counter()
        answer = start(pb.StartRequest(command="true"), timeout=30)
        elapsed = (time.perf_counter() - t0) * 1000
        if i >= warmup:
            times.append(elapsed)
            ids.append(answer.job.id)
    print(json.dumps({"ms": times, "ids": ids}))
elif mode == "whoami":
    rounds = int(args[0])
    who = unary("WhoAmI", pb.WhoAmIRequest, pb.WhoAmIResponse)
    times = []
    for i in range(rounds + 20):
        t0 = time.perf_counter()
        who(pb.WhoAmIRequest(), timeout=30)
        if i >= 20:
            times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({"ms": times}))
else:
    sys.exit(f"unknown mode {mode}")
channel.close()
