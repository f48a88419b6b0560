"""Quickstart: start the sample "greet" workflow and read its result, watch a "report" run to its end, and
tell a client's mistake by its gRPC status code. Against a Flowgate on its embedded default:

    python examples/quickstart.py --url localhost:8000

FLOWGATE_URL and FLOWGATE_API_KEY are read when the flags are absent.
"""

import argparse
import json
import os
import sys

import grpc
from google.protobuf import duration_pb2, json_format, struct_pb2

from flowgate.workflow.v1 import workflow_pb2, workflow_service_pb2, workflow_service_pb2_grpc


def value(data) -> struct_pb2.Value:
    """A JSON-like Python value as the google.protobuf.Value the contract's inputs are."""
    message = struct_pb2.Value()
    json_format.ParseDict(data, message)
    return message


def plain(data):
    """JSON numbers as Python reads them: a google.protobuf.Value holds every number as a double."""
    if isinstance(data, float) and data.is_integer():
        return int(data)
    if isinstance(data, list):
        return [plain(item) for item in data]
    if isinstance(data, dict):
        return {key: plain(item) for key, item in data.items()}
    return data


def compact(message) -> str:
    return json.dumps(plain(json_format.MessageToDict(message)), separators=(",", ":"), sort_keys=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("FLOWGATE_URL", "localhost:8000"), help="host:port of Flowgate")
    parser.add_argument("--tls", action="store_true", help="the server has TLS")
    parser.add_argument("--api-key", default=os.environ.get("FLOWGATE_API_KEY", ""), help="sent as authorization: Bearer <key>")
    args = parser.parse_args()
    target = args.url.removeprefix("http://").removeprefix("https://")

    channel = grpc.secure_channel(target, grpc.ssl_channel_credentials()) if args.tls else grpc.insecure_channel(target)
    metadata = [("authorization", f"Bearer {args.api_key}")] if args.api_key else []
    workflows = workflow_service_pb2_grpc.WorkflowServiceStub(channel)

    # 1. Start "greet" and wait for its result.
    started = workflows.StartWorkflow(
        workflow_service_pb2.StartWorkflowRequest(workflow_type="greet", input=value({"name": "Ada"})),
        metadata=metadata,
        timeout=30,
    )
    print(f"started greet: {started.workflow_id}")
    result = workflows.GetWorkflowResult(
        workflow_service_pb2.GetWorkflowResultRequest(
            workflow_id=started.workflow_id, run_id=started.run_id, wait=duration_pb2.Duration(seconds=30)
        ),
        metadata=metadata,
        timeout=40,
    )
    if result.status != workflow_pb2.WORKFLOW_STATUS_COMPLETED:
        print(f"greet ended {workflow_pb2.WorkflowStatus.Name(result.status)}: {result.failure.message}", file=sys.stderr)
        return 1
    print(f"result: {compact(result.result)}")

    # 2. Start "report" and watch it to its end: progress as it comes, then the outcome.
    report = workflows.StartWorkflow(
        workflow_service_pb2.StartWorkflowRequest(workflow_type="report", input=value({"steps": 3, "step_seconds": 0.2})),
        metadata=metadata,
        timeout=30,
    )
    print(f"watching report: {report.workflow_id}")
    completed = False
    watch = workflow_service_pb2.WatchWorkflowRequest(workflow_id=report.workflow_id, run_id=report.run_id)
    for event in workflows.WatchWorkflow(watch, metadata=metadata, timeout=120):
        name = workflow_pb2.WorkflowEventType.Name(event.type).removeprefix("WORKFLOW_EVENT_TYPE_")
        if event.type == workflow_pb2.WORKFLOW_EVENT_TYPE_PROGRESS:
            print(f"  {name} {event.progress.percent:3.0f}% {event.progress.message}")
        elif event.type == workflow_pb2.WORKFLOW_EVENT_TYPE_COMPLETED:
            print(f"  {name} {compact(event.data)}")
            completed = True
        else:
            print(f"  {name} {event.name}")
    if not completed:
        print("the watch ended before the run completed", file=sys.stderr)
        return 1

    # 3. A client's mistake is an error with a status code (INVALID_ARGUMENT here), never an internal error.
    try:
        workflows.StartWorkflow(workflow_service_pb2.StartWorkflowRequest(workflow_type="no_such_workflow"), metadata=metadata, timeout=30)
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            print(f"starting an unregistered type: want INVALID_ARGUMENT, got {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
        print(f"unregistered type: {error.code().name}")
    else:
        print("starting an unregistered type succeeded", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
