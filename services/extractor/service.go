// Package extractor is the extractor service of the SINP platform: it owns extraction runs and staged archives: on RequestInstructed it extracts the observations of the perimeter into F1 and F2 archives.
package extractor

import (
	"context"

	"sinp.occitanie.fr/platform/service"
)

// Name is the service's name in health checks, logs and `sinp up --services`.
const Name = "extractor"

// Definition describes the service to a sinp process.
func Definition() service.Definition {
	return service.Definition{
		Name:   Name,
		Schema: "extractor",
		// The gRPC API is registered once the service implements it.
		GRPCServices: []string{},
		Setup: func(ctx context.Context, p *service.Process) (service.Runner, error) {
			return nil, nil
		},
	}
}
