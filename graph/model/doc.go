// Package model holds the Go types gqlgen generates from the schema in
// schema/graphql (models_gen.go): the gateway's own view of orders,
// products and payments, converted from the service clients' types in
// package graph so the schema can evolve apart from the services' wire types.
package model
