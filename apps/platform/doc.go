// Package platform is the root of Harvest's shared, business-free code: the
// outbox and inbox, SQL transactions, migrations, Dapr helpers, money, ids,
// configuration and observability. Each subpackage owns one of those.
package platform
