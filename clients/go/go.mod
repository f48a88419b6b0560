module github.com/flowgate/flowgate/clients/go

// The oldest Go that the pinned connect-go supports, so a service on Go 1.24 or later can `go get` it.
go 1.24.0

require (
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go v1.36.12-20260825204119-511051f7f437.2
	connectrpc.com/connect v1.19.2
	google.golang.org/genproto/googleapis/api v0.0.0-20250929231259-57b25ae835d4
	google.golang.org/protobuf v1.36.12
)
