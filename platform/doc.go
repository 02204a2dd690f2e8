// Package platform is the shared runtime of the SINP services: configuration,
// logging, PostgreSQL pool and migrations, JetStream streams, the
// transactional outbox, idempotent consumers, the clock, the gRPC server
// bootstrap and metrics. Each concern lives in its own sub-package.
package platform
