// Package intake is the intake service of the SINP platform: it owns extraction requests, their instruction, membership (structures, adherents) and accounts; it emits RequestSubmitted, RequestInstructed, RequestRejected and RequestCancelled.
package intake

import (
	"context"

	"sinp.occitanie.fr/platform/service"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "intake"

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	return service.Definition{
		Name:   Name,
		Schema: "intake",
		// The gRPC API is registered once the service implements it.
		GRPCServices: []string{},
		Setup: func(ctx context.Context, p *service.Process) (service.Runner, error) {
			return nil, nil
		},
	}
}
