// Package delivery is the delivery service of the SINP platform: it owns requesters' drop zones, publications and the download audit.
package delivery

import (
	"context"

	"sinp.occitanie.fr/platform/service"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "delivery"

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	return service.Definition{
		Name:   Name,
		Schema: "delivery",
		// The gRPC API is registered once the service implements it.
		GRPCServices: []string{},
		Setup: func(ctx context.Context, p *service.Process) (service.Runner, error) {
			return nil, nil
		},
	}
}
