// Package generated is gqlgen's executable schema for the gateway
// (generated.go, from gqlgen.yml at the repository root); regenerate it with
// `go run github.com/99designs/gqlgen generate`, never edit it by hand.
package generated
