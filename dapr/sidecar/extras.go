package main

import (
	"github.com/dapr/components-contrib/bindings/mysql"
	"github.com/dapr/components-contrib/bindings/smtp"
	"github.com/dapr/components-contrib/pubsub/rocketmq"
	bindingsLoader "github.com/dapr/dapr/pkg/components/bindings"
	nrLoader "github.com/dapr/dapr/pkg/components/nameresolution"
	pubsubLoader "github.com/dapr/dapr/pkg/components/pubsub"
)

// The stable component set lacks these; Harvest needs them:
//   - sqlite name resolution, made cacheable (resolver.go): sidecars on one
//     host find each other through a shared SQLite file, with no multicast
//     (mDNS) needed;
//   - rocketmq pub/sub: the production broker variant in components/prod;
//   - mysql and smtp output bindings: reporting queries and mail in production.
func init() {
	nrLoader.DefaultRegistry.RegisterComponent(newCachedSQLite, "sqlite")
	pubsubLoader.DefaultRegistry.RegisterComponent(rocketmq.NewRocketMQ, "rocketmq")
	bindingsLoader.DefaultRegistry.RegisterOutputBinding(mysql.NewMysql, "mysql")
	bindingsLoader.DefaultRegistry.RegisterOutputBinding(smtp.NewSMTP, "smtp")
}
