package bus

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// Every message of sinp.events.v1 that carries a Meta is an event with a
// subject in the documented tree, and survives the trip through the bus.
func TestEveryEventHasASubjectAndRoundTrips(t *testing.T) {
	n := 0
	protoregistry.GlobalTypes.RangeMessages(func(mt protoreflect.MessageType) bool {
		d := mt.Descriptor()
		if d.ParentFile().Package() != "sinp.events.v1" || d.Fields().ByName("meta") == nil {
			return true
		}
		n++
		ev := mt.New().Interface().(Event)
		SetMeta(ev, &eventsv1.Meta{EventId: "e-1", RequestId: "R-1"})
		subject, err := SubjectFor(ev)
		if err != nil {
			t.Errorf("%s: %v", d.FullName(), err)
			return true
		}
		if !strings.HasPrefix(subject, "sinp.") {
			t.Errorf("%s: subject %s outside the tree", d.FullName(), subject)
		}
		covered := subject == SubjectSigningKey || subject == SubjectTokenRevoked // the auth streams
		for _, s := range EventSubjects {
			covered = covered || strings.HasPrefix(subject, strings.TrimSuffix(s, ">"))
		}
		if !covered {
			t.Errorf("%s: subject %s is not captured by the %s stream", d.FullName(), subject, StreamEvents)
		}
		b, _ := proto.Marshal(ev)
		back, err := Decode(subject, b)
		if err != nil || back.GetMeta().GetEventId() != "e-1" || !proto.Equal(back, ev) {
			t.Errorf("%s: round trip gave %v (%v)", d.FullName(), back, err)
		}
		return true
	})
	if n != len(subjectOf) || n < 16 {
		t.Fatalf("%d event messages, %d registered", n, len(subjectOf))
	}
}
