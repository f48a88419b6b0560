// Package client is the Go client of Flowgate, generated from the Protobuf contract in the repository's
// proto/ folder by scripts/generate.sh (protoc-gen-go and protoc-gen-connect-go):
//
//   - flowgate/workflow/v1 and its workflowv1connect: WorkflowService (start, watch, signal, query, update, stop),
//   - flowgate/events/v1 and eventsv1connect: EventsService,
//   - flowgate/config/v1 and configv1connect: ConfigService.
//
// The connect clients speak the Connect protocol by default, and gRPC or gRPC-Web with
// connect.WithGRPC() or connect.WithGRPCWeb(); Flowgate serves all three on one port. examples/quickstart is
// a complete program: it starts a workflow, reads its result, watches a run to its end and checks an error
// code.
package client
