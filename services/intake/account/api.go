package account

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
)

// Access says who may call each AccountService method.
var Access = auth.Rules{
	intakev1.AccountService_SignIn_FullMethodName:         auth.Public(),
	intakev1.AccountService_Refresh_FullMethodName:        auth.Public(),
	intakev1.AccountService_SignOut_FullMethodName:        auth.Public(),
	intakev1.AccountService_WhoAmI_FullMethodName:         auth.Allow(auth.Requester, auth.Reviewer, auth.Administrator, auth.Operator),
	intakev1.AccountService_CreateAccount_FullMethodName:  auth.Allow(auth.Administrator, auth.Operator),
	intakev1.AccountService_ListAccounts_FullMethodName:   auth.Allow(auth.Administrator, auth.Operator),
	intakev1.AccountService_DisableAccount_FullMethodName: auth.Allow(auth.Administrator, auth.Operator),
	intakev1.AccountService_SetPassword_FullMethodName:    auth.Allow(auth.Requester, auth.Reviewer, auth.Administrator, auth.Operator),
}

// Server serves sinp.intake.v1.AccountService.
type Server struct {
	intakev1.UnimplementedAccountServiceServer
	Accounts *Service
}

func kindProto(k auth.Kind) intakev1.AccountKind {
	switch k {
	case auth.Requester:
		return intakev1.AccountKind_ACCOUNT_KIND_REQUESTER
	case auth.Reviewer:
		return intakev1.AccountKind_ACCOUNT_KIND_REVIEWER
	case auth.Administrator:
		return intakev1.AccountKind_ACCOUNT_KIND_ADMINISTRATOR
	case auth.Operator:
		return intakev1.AccountKind_ACCOUNT_KIND_OPERATOR
	}
	return intakev1.AccountKind_ACCOUNT_KIND_UNSPECIFIED
}

func kindOf(k intakev1.AccountKind) auth.Kind {
	switch k {
	case intakev1.AccountKind_ACCOUNT_KIND_REQUESTER:
		return auth.Requester
	case intakev1.AccountKind_ACCOUNT_KIND_REVIEWER:
		return auth.Reviewer
	case intakev1.AccountKind_ACCOUNT_KIND_ADMINISTRATOR:
		return auth.Administrator
	case intakev1.AccountKind_ACCOUNT_KIND_OPERATOR:
		return auth.Operator
	}
	return auth.Nobody
}

// AccountProto is an account as the API shows it.
func AccountProto(a Account) *intakev1.Account {
	return &intakev1.Account{Id: a.ID, Email: a.Email, Name: a.Name, Kind: kindProto(a.Kind), Pole: a.Pole,
		StructureId: a.StructureID, Disabled: a.Disabled, CreatedAt: timestamppb.New(a.CreatedAt)}
}

func signedIn(t Tokens, a Account) *intakev1.SignInResponse {
	return &intakev1.SignInResponse{AccessToken: t.Access, AccessExpiresAt: timestamppb.New(t.AccessExpires),
		RefreshToken: t.Refresh, RefreshExpiresAt: timestamppb.New(t.RefreshExpires), Account: AccountProto(a)}
}

// status turns the use cases' errors into statuses; it never says
// whether an email has an account, and an unexpected error (a database's)
// reaches the client without its text, which is logged instead.
func (s *Server) status(err error) error {
	var throttled ThrottledError
	var forbidden ForbiddenError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &throttled):
		return status.Error(codes.ResourceExhausted, throttled.Error())
	case errors.As(err, &forbidden):
		return status.Error(codes.PermissionDenied, forbidden.Error())
	case errors.Is(err, ErrBadCredentials):
		return status.Error(codes.Unauthenticated, ErrBadCredentials.Error())
	case errors.Is(err, ErrSession):
		return status.Error(codes.Unauthenticated, ErrSession.Error())
	case errors.Is(err, ErrNotFound):
		return status.Error(codes.NotFound, ErrNotFound.Error())
	case errors.Is(err, ErrExists):
		return grpcserver.Invalid(grpcserver.Violation{Field: "email", Description: ErrExists.Error()})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	case status.Code(err) != codes.Unknown:
		return err
	}
	s.Accounts.Log.Error("account: request failed", "err", err)
	return status.Error(codes.Unavailable, "intake: accounts unavailable, try again later")
}

func (s *Server) SignIn(ctx context.Context, req *intakev1.SignInRequest) (*intakev1.SignInResponse, error) {
	t, a, err := s.Accounts.SignIn(ctx, req.GetEmail(), req.GetPassword(), grpcserver.Caller(ctx))
	if err != nil {
		return nil, s.status(err)
	}
	return signedIn(t, a), nil
}

func (s *Server) Refresh(ctx context.Context, req *intakev1.RefreshRequest) (*intakev1.SignInResponse, error) {
	t, a, err := s.Accounts.Refresh(ctx, req.GetRefreshToken())
	if err != nil {
		return nil, s.status(err)
	}
	return signedIn(t, a), nil
}

func (s *Server) SignOut(ctx context.Context, req *intakev1.SignOutRequest) (*intakev1.SignOutResponse, error) {
	return &intakev1.SignOutResponse{}, s.status(s.Accounts.SignOut(ctx, req.GetRefreshToken()))
}

func (s *Server) WhoAmI(ctx context.Context, _ *intakev1.WhoAmIRequest) (*intakev1.WhoAmIResponse, error) {
	a, err := s.Accounts.Get(ctx, auth.FromContext(ctx).Subject)
	if err != nil {
		return nil, s.status(err)
	}
	return &intakev1.WhoAmIResponse{Account: AccountProto(a)}, nil
}

func (s *Server) CreateAccount(ctx context.Context, req *intakev1.CreateAccountRequest) (*intakev1.CreateAccountResponse, error) {
	a, err := s.Accounts.Create(ctx, auth.FromContext(ctx), NewAccount{Email: req.GetEmail(), Name: req.GetName(), Kind: kindOf(req.GetKind()),
		Pole: req.GetPole(), StructureID: req.GetStructureId(), Password: req.GetPassword()})
	if err != nil {
		return nil, s.status(err)
	}
	return &intakev1.CreateAccountResponse{Account: AccountProto(a)}, nil
}

func (s *Server) ListAccounts(ctx context.Context, req *intakev1.ListAccountsRequest) (*intakev1.ListAccountsResponse, error) {
	size := int(req.GetPageSize())
	if size <= 0 || size > 500 {
		size = 100
	}
	list, err := s.Accounts.List(ctx, req.GetPageToken(), size)
	if err != nil {
		return nil, s.status(err)
	}
	resp := &intakev1.ListAccountsResponse{}
	for _, a := range list {
		resp.Accounts = append(resp.Accounts, AccountProto(a))
	}
	if len(list) == size {
		resp.NextPageToken = list[len(list)-1].Email
	}
	return resp, nil
}

func (s *Server) DisableAccount(ctx context.Context, req *intakev1.DisableAccountRequest) (*intakev1.DisableAccountResponse, error) {
	if req.GetAccountId() == "" {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "account_id", Description: "required"})
	}
	a, err := s.Accounts.Disable(ctx, auth.FromContext(ctx), req.GetAccountId(), req.GetReason())
	if err != nil {
		return nil, s.status(err)
	}
	return &intakev1.DisableAccountResponse{Account: AccountProto(a)}, nil
}

func (s *Server) SetPassword(ctx context.Context, req *intakev1.SetPasswordRequest) (*intakev1.SetPasswordResponse, error) {
	err := s.Accounts.SetPassword(ctx, auth.FromContext(ctx), req.GetAccountId(), req.GetCurrentPassword(), req.GetNewPassword(), grpcserver.Caller(ctx))
	return &intakev1.SetPasswordResponse{}, s.status(err)
}
