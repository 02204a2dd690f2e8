package service

import (
	"context"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/deadletter"
	"sinp.occitanie.fr/platform/outbox"
	adminv1 "sinp.occitanie.fr/proto/gen/go/sinp/admin/v1"
)

// AdminAccess is who may call the operator APIs every process serves.
var AdminAccess = auth.Rules{
	adminv1.ClockService_Now_FullMethodName:                   auth.Allow(auth.Requester, auth.Tracking, auth.Reviewer, auth.Administrator, auth.Operator),
	adminv1.ClockService_Advance_FullMethodName:               auth.Allow(auth.Operator),
	adminv1.ClockService_Set_FullMethodName:                   auth.Allow(auth.Operator),
	adminv1.DeadLetterService_ListDeadLetters_FullMethodName:  auth.Allow(auth.Operator),
	adminv1.DeadLetterService_GetDeadLetter_FullMethodName:    auth.Allow(auth.Operator),
	adminv1.DeadLetterService_ReplayDeadLetter_FullMethodName: auth.Allow(auth.Operator),
	adminv1.OutboxService_ListParked_FullMethodName:           auth.Allow(auth.Operator),
	adminv1.OutboxService_RetryParked_FullMethodName:          auth.Allow(auth.Operator),
}

// registerAdmin serves the operator APIs and installs every service's
// access rules.
func (p *Process) registerAdmin(defs []Definition) {
	rules := []auth.Rules{AdminAccess}
	var schemas []string
	for _, d := range defs {
		rules = append(rules, d.Access)
		if d.Schema != "" {
			schemas = append(schemas, d.Schema)
		}
	}
	p.Auth.Rules = auth.Merge(rules...)
	adminv1.RegisterClockServiceServer(p.GRPC, &clock.AdminServer{Clock: p.Clock, Caller: func(ctx context.Context) string {
		return auth.FromContext(ctx).String()
	}})
	adminv1.RegisterDeadLetterServiceServer(p.GRPC, &deadletter.AdminServer{JS: p.JS})
	adminv1.RegisterOutboxServiceServer(p.GRPC, &outbox.AdminServer{Pool: p.DB, Schemas: schemas})
}
