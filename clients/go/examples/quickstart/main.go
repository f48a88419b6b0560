// Quickstart: start the sample "greet" workflow and read its result, watch a "report" run to its end, and
// tell a client's mistake by its Connect code. Run it against a Flowgate on its embedded default:
//
//	go run ./examples/quickstart -url http://localhost:8000
//	go run ./examples/quickstart -url http://localhost:8000 -protocol grpc
//
// FLOWGATE_URL and FLOWGATE_API_KEY are read when the flags are absent.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"

	workflowv1 "github.com/flowgate/flowgate/clients/go/flowgate/workflow/v1"
	"github.com/flowgate/flowgate/clients/go/flowgate/workflow/v1/workflowv1connect"
)

func main() {
	url := flag.String("url", env("FLOWGATE_URL", "http://localhost:8000"), "where Flowgate listens")
	protocol := flag.String("protocol", "connect", "connect, grpc or grpcweb")
	apiKey := flag.String("api-key", os.Getenv("FLOWGATE_API_KEY"), "sent as Authorization: Bearer <key>")
	flag.Parse()
	if err := run(context.Background(), *url, *protocol, *apiKey); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, protocol, apiKey string) error {
	options := []connect.ClientOption{}
	switch protocol {
	case "connect":
	case "grpc":
		options = append(options, connect.WithGRPC())
	case "grpcweb":
		options = append(options, connect.WithGRPCWeb())
	default:
		return fmt.Errorf("-protocol must be connect, grpc or grpcweb, not %q", protocol)
	}
	if apiKey != "" {
		options = append(options, connect.WithInterceptors(bearer(apiKey)))
	}
	workflows := workflowv1connect.NewWorkflowServiceClient(httpClient(url), url, options...)

	// 1. Start "greet" and wait for its result.
	input, err := structpb.NewValue(map[string]any{"name": "Ada"})
	if err != nil {
		return err
	}
	started, err := workflows.StartWorkflow(ctx, connect.NewRequest(&workflowv1.StartWorkflowRequest{WorkflowType: "greet", Input: input}))
	if err != nil {
		return fmt.Errorf("StartWorkflow: %w", err)
	}
	fmt.Printf("started greet: %s\n", started.Msg.WorkflowId)
	result, err := workflows.GetWorkflowResult(ctx, connect.NewRequest(&workflowv1.GetWorkflowResultRequest{
		WorkflowId: started.Msg.WorkflowId,
		RunId:      started.Msg.RunId,
		Wait:       durationpb.New(30 * time.Second),
	}))
	if err != nil {
		return fmt.Errorf("GetWorkflowResult: %w", err)
	}
	if result.Msg.Status != workflowv1.WorkflowStatus_WORKFLOW_STATUS_COMPLETED {
		return fmt.Errorf("greet ended %s: %s", result.Msg.Status, result.Msg.GetFailure().GetMessage())
	}
	fmt.Printf("result: %s\n", compact(result.Msg.GetResult()))

	// 2. Start "report" and watch it to its end: progress as it comes, then the outcome.
	input, err = structpb.NewValue(map[string]any{"steps": 3, "step_seconds": 0.2})
	if err != nil {
		return err
	}
	report, err := workflows.StartWorkflow(ctx, connect.NewRequest(&workflowv1.StartWorkflowRequest{WorkflowType: "report", Input: input}))
	if err != nil {
		return fmt.Errorf("StartWorkflow: %w", err)
	}
	fmt.Printf("watching report: %s\n", report.Msg.WorkflowId)
	stream, err := workflows.WatchWorkflow(ctx, connect.NewRequest(&workflowv1.WatchWorkflowRequest{WorkflowId: report.Msg.WorkflowId, RunId: report.Msg.RunId}))
	if err != nil {
		return fmt.Errorf("WatchWorkflow: %w", err)
	}
	closed := false
	for stream.Receive() {
		event := stream.Msg()
		name := strings.TrimPrefix(event.Type.String(), "WORKFLOW_EVENT_TYPE_")
		switch event.Type {
		case workflowv1.WorkflowEventType_WORKFLOW_EVENT_TYPE_PROGRESS:
			fmt.Printf("  %s %3.0f%% %s\n", name, event.Progress.GetPercent(), event.Progress.GetMessage())
		case workflowv1.WorkflowEventType_WORKFLOW_EVENT_TYPE_COMPLETED:
			fmt.Printf("  %s %s\n", name, compact(event.Data))
			closed = true
		default:
			fmt.Printf("  %s %s\n", name, event.Name)
		}
	}
	if err := stream.Err(); err != nil {
		return fmt.Errorf("WatchWorkflow: %w", err)
	}
	if !closed {
		return errors.New("the watch ended before the run completed")
	}

	// 3. A client's mistake is an error with a Connect code (InvalidArgument here), never a 500.
	_, err = workflows.StartWorkflow(ctx, connect.NewRequest(&workflowv1.StartWorkflowRequest{WorkflowType: "no_such_workflow"}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		return fmt.Errorf("starting an unregistered type: want invalid_argument, got %v", err)
	}
	fmt.Printf("unregistered type: %s\n", connect.CodeOf(err))
	return nil
}

// httpClient speaks HTTP/1.1 and HTTP/2 over TLS, and HTTP/2 without TLS (h2c) to an http:// URL, which
// gRPC needs; Flowgate serves both on one port.
func httpClient(url string) *http.Client {
	if strings.HasPrefix(url, "https://") {
		return &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}}}
	}
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{
		Protocols:   protocols,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}}
}

func bearer(key string) connect.Interceptor {
	return &bearerInterceptor{header: "Bearer " + key}
}

type bearerInterceptor struct{ header string }

func (b *bearerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", b.header)
		return next(ctx, req)
	}
}

func (b *bearerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", b.header)
		return conn
	}
}

func (b *bearerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func compact(value *structpb.Value) string {
	text, err := protojson.Marshal(value)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(text)
}

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}
