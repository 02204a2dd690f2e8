package grpcserver

import (
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Violation is one field of a request that is wrong, and why, in words the
// caller can act on.
type Violation struct {
	Field       string
	Description string
}

// Invalid returns InvalidArgument with a BadRequest detail naming each
// field at fault, so that clients can point at the field, not parse text.
func Invalid(violations ...Violation) error {
	msgs := make([]string, len(violations))
	br := &errdetails.BadRequest{}
	for i, v := range violations {
		msgs[i] = v.Field + ": " + v.Description
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
	}
	st := status.New(codes.InvalidArgument, strings.Join(msgs, "; "))
	if d, err := st.WithDetails(br); err == nil {
		st = d
	}
	return st.Err()
}

// Violations reads the fields an InvalidArgument error names.
func Violations(err error) []Violation {
	var out []Violation
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				out = append(out, Violation{Field: v.Field, Description: v.Description})
			}
		}
	}
	return out
}
