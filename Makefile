# Harvest: the two commands are `make up` and `make test`.
#
#   make up                         MariaDB + Redis (installed/started if needed), sidecar build,
#                                   then every app with its daprd; GraphQL on http://127.0.0.1:8080/graphql
#   make down                       stop the stack `make up` started (from another terminal)
#   make token ROLE=CUSTOMER SUB=C0001   print a development JWT (use `make -s token …` in scripts)
#   make test                       every test: unit, integration and end-to-end (whole stack)
#   make sidecar                    build daprd, placement and scheduler into .bin/ if missing
#   make services                   install/start MariaDB and Redis only
#   make generate                   regenerate the gqlgen code

GO      ?= go
# The launcher is `go run ./deploy/local/cmd/harvest-stack`, built first and
# exec'd so that Ctrl-C reaches it directly (go run reports an interrupted
# child as a failure even after a clean stop).
STACK   := $(GO) build -o .bin/harvest-stack ./deploy/local/cmd/harvest-stack && .bin/harvest-stack
ROLE    ?= CUSTOMER
SUB     ?= C0001
BIN     := .bin

.PHONY: up down token test sidecar services generate

up: sidecar
	$(STACK) up $(ARGS)

down:
	$(STACK) down

token:
	@$(GO) run ./deploy/local/cmd/harvest-stack token -role $(ROLE) -sub $(SUB) $(if $(WAREHOUSE),-warehouse $(WAREHOUSE))

services:
	$(STACK) services

# Built once (several minutes on 2 cores from an empty module cache), then
# reused until dapr/sidecar changes; an official daprd on PATH is used by the
# launcher when .bin has none.
SIDECAR_SRC := $(shell find dapr/sidecar -name '*.go' -o -name go.mod -o -name go.sum)

# The version stamp is what daprd, placement and the Scheduler report
# (without it: "edge"); keep it equal to dapr/sidecar/go.mod's
# github.com/dapr/dapr and to deploy/local/stack's SidecarLDFlags.
DAPR_LDFLAGS := -X github.com/dapr/dapr/pkg/buildinfo.version=1.18.0

sidecar: $(BIN)/daprd $(BIN)/placement $(BIN)/scheduler

$(BIN)/daprd: $(SIDECAR_SRC)
	@mkdir -p $(BIN)
	cd dapr/sidecar && $(GO) build -tags stablecomponents -ldflags "$(DAPR_LDFLAGS)" -o ../../$(BIN)/daprd .

$(BIN)/placement: $(SIDECAR_SRC)
	@mkdir -p $(BIN)
	cd dapr/sidecar && $(GO) build -tags stablecomponents -ldflags "$(DAPR_LDFLAGS)" -o ../../$(BIN)/placement ./placement

$(BIN)/scheduler: $(SIDECAR_SRC)
	@mkdir -p $(BIN)
	cd dapr/sidecar && $(GO) build -tags stablecomponents -ldflags "$(DAPR_LDFLAGS)" -o ../../$(BIN)/scheduler ./scheduler

test: services sidecar
	$(GO) test -count=1 -timeout 60m ./...

generate:
	$(GO) run github.com/99designs/gqlgen generate
