// Package feeds is the feeds service of the SINP platform: it owns the feed read model and serves RSS 2.0 and Atom feeds over HTTP.
package feeds

import (
	"context"

	"sinp.occitanie.fr/platform/service"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "feeds"

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	return service.Definition{
		Name:   Name,
		Schema: "feeds",
		// The gRPC API is registered once the service implements it.
		GRPCServices: []string{},
		Setup: func(ctx context.Context, p *service.Process) (service.Runner, error) {
			return nil, nil
		},
	}
}
