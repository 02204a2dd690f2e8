// Package proto holds the protobuf contracts of the platform (events on
// JetStream and the gRPC APIs, packages sinp.<service>.v1) and, under gen/,
// the Go code generated from them by ./generate.sh.
package proto
