package cli

import (
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

func TestWhatCommandsPrint(t *testing.T) {
	at := time.Date(2026, 3, 7, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		got, want string
	}{
		{When(nil), "-"},
		{When(&timestamppb.Timestamp{}), "-"},
		{When(timestamppb.New(time.Time{})), "-"},
		{When(timestamppb.New(at)), "2026-03-07T07:00:00Z"},
		{Enum(eventsv1.ReleaseRule_RELEASE_RULE_TACIT, "RELEASE_RULE_"), "tacit"},
		{Enum(eventsv1.FileKind_FILE_KIND_F2, "FILE_KIND_"), "f2"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if a, err := One([]string{"R-2026-000001"}, "needs a reference"); a != "R-2026-000001" || err != nil {
		t.Errorf("One: %q %v", a, err)
	}
	for _, args := range [][]string{nil, {""}, {"a", "b"}} {
		if _, err := One(args, "needs a reference"); !errors.Is(err, ErrUsage) {
			t.Errorf("One(%q): %v", args, err)
		}
	}
}
