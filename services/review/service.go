// Package review is the review service of the SINP platform: it owns the pôles' opinions on F2 deliverables, review deadlines and release timers.
package review

import (
	"context"

	"sinp.occitanie.fr/platform/service"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "review"

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	return service.Definition{
		Name:   Name,
		Schema: "review",
		// The gRPC API is registered once the service implements it.
		GRPCServices: []string{},
		Setup: func(ctx context.Context, p *service.Process) (service.Runner, error) {
			return nil, nil
		},
	}
}
