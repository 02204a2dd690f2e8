// Package bus owns the platform's use of NATS JetStream: the subject tree,
// the streams, an embedded server for single-process runs, and the mapping
// between event types and subjects.
//
// Subject tree (an operator can `nats sub 'sinp.>'`):
//
//	sinp.request.submitted      RequestSubmitted      intake
//	sinp.request.instructed     RequestInstructed     intake
//	sinp.request.rejected       RequestRejected       intake
//	sinp.request.cancelled      RequestCancelled      intake
//	sinp.extraction.started     ExtractionStarted     extractor
//	sinp.extraction.progress    ExtractionProgress    extractor
//	sinp.extraction.partition   PartitionExtracted    extractor
//	sinp.extraction.staged      ArchiveStaged         extractor
//	sinp.extraction.completed   ExtractionCompleted   extractor
//	sinp.extraction.failed      ExtractionFailed      extractor
//	sinp.review.opened          ReviewOpened          review
//	sinp.review.opinion         OpinionRecorded       review
//	sinp.review.granted         ReleaseGranted        review
//	sinp.review.withheld        ReleaseWithheld       review
//	sinp.delivery.published     ArchivePublished      delivery
//	sinp.delivery.notice        NoticePublished       delivery
//	sinp.delivery.expired       ArchiveExpired        delivery
//	sinp.membership.changed     MembershipChanged     intake
//	sinp.auth.key               SigningKey            a token issuer (stream SINP_AUTH_KEYS)
//	sinp.auth.revoked           TokenRevoked          intake (stream SINP_AUTH_REVOCATIONS)
//	sinp.replay.<consumer>      a dead letter handed again to its consumer (`sinp dlq replay`)
//	sinp.dlq.<consumer>         messages a consumer gave up on (stream SINP_DLQ)
package bus

import (
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// Subjects of the events, one constant per event type.
const (
	SubjectRequestSubmitted   = "sinp.request.submitted"
	SubjectRequestInstructed  = "sinp.request.instructed"
	SubjectRequestRejected    = "sinp.request.rejected"
	SubjectRequestCancelled   = "sinp.request.cancelled"
	SubjectExtractionStarted  = "sinp.extraction.started"
	SubjectExtractionProgress = "sinp.extraction.progress"
	SubjectPartitionExtracted = "sinp.extraction.partition"
	SubjectArchiveStaged      = "sinp.extraction.staged"
	SubjectExtractionDone     = "sinp.extraction.completed"
	SubjectExtractionFailed   = "sinp.extraction.failed"
	SubjectReviewOpened       = "sinp.review.opened"
	SubjectOpinionRecorded    = "sinp.review.opinion"
	SubjectReleaseGranted     = "sinp.review.granted"
	SubjectReleaseWithheld    = "sinp.review.withheld"
	SubjectArchivePublished   = "sinp.delivery.published"
	SubjectNoticePublished    = "sinp.delivery.notice"
	SubjectArchiveExpired     = "sinp.delivery.expired"
	SubjectMembershipChanged  = "sinp.membership.changed"
	SubjectSigningKey         = "sinp.auth.key"
	SubjectTokenRevoked       = "sinp.auth.revoked"

	// SubjectDeadLetterPrefix + consumer name: where a consumer puts a
	// message it gave up on.
	SubjectDeadLetterPrefix = "sinp.dlq."
	// SubjectReplayPrefix + consumer name: a dead letter replayed to that
	// consumer alone (its original subject in header Sinp-Original-Subject).
	SubjectReplayPrefix = "sinp.replay."
)

// Stream names.
const (
	StreamEvents      = "SINP_EVENTS"
	StreamDeadLetter  = "SINP_DLQ"
	StreamAuthKeys    = "SINP_AUTH_KEYS"
	StreamRevocations = "SINP_AUTH_REVOCATIONS"
)

// EventSubjects are the subjects of the events stream.
var EventSubjects = []string{"sinp.request.>", "sinp.extraction.>", "sinp.review.>", "sinp.delivery.>", "sinp.membership.>", SubjectReplayPrefix + ">"}

var subjectOf = map[protoreflect.FullName]string{}
var typeOf = map[string]protoreflect.MessageType{}

func register(m proto.Message, subject string) {
	mt := m.ProtoReflect().Type()
	subjectOf[mt.Descriptor().FullName()] = subject
	typeOf[subject] = mt
}

func init() {
	register(&eventsv1.RequestSubmitted{}, SubjectRequestSubmitted)
	register(&eventsv1.RequestInstructed{}, SubjectRequestInstructed)
	register(&eventsv1.RequestRejected{}, SubjectRequestRejected)
	register(&eventsv1.RequestCancelled{}, SubjectRequestCancelled)
	register(&eventsv1.ExtractionStarted{}, SubjectExtractionStarted)
	register(&eventsv1.ExtractionProgress{}, SubjectExtractionProgress)
	register(&eventsv1.PartitionExtracted{}, SubjectPartitionExtracted)
	register(&eventsv1.ArchiveStaged{}, SubjectArchiveStaged)
	register(&eventsv1.ExtractionCompleted{}, SubjectExtractionDone)
	register(&eventsv1.ExtractionFailed{}, SubjectExtractionFailed)
	register(&eventsv1.ReviewOpened{}, SubjectReviewOpened)
	register(&eventsv1.OpinionRecorded{}, SubjectOpinionRecorded)
	register(&eventsv1.ReleaseGranted{}, SubjectReleaseGranted)
	register(&eventsv1.ReleaseWithheld{}, SubjectReleaseWithheld)
	register(&eventsv1.ArchivePublished{}, SubjectArchivePublished)
	register(&eventsv1.NoticePublished{}, SubjectNoticePublished)
	register(&eventsv1.ArchiveExpired{}, SubjectArchiveExpired)
	register(&eventsv1.MembershipChanged{}, SubjectMembershipChanged)
	register(&eventsv1.SigningKey{}, SubjectSigningKey)
	register(&eventsv1.TokenRevoked{}, SubjectTokenRevoked)
}

// Event is any message of sinp.events.v1: it starts with a Meta.
type Event interface {
	proto.Message
	GetMeta() *eventsv1.Meta
}

// SubjectFor returns the subject an event is published on.
func SubjectFor(e proto.Message) (string, error) {
	s, ok := subjectOf[e.ProtoReflect().Descriptor().FullName()]
	if !ok {
		return "", fmt.Errorf("bus: %s is not a registered event", e.ProtoReflect().Descriptor().FullName())
	}
	return s, nil
}

// Decode parses the payload of a message received on subject.
func Decode(subject string, data []byte) (Event, error) {
	mt, ok := typeOf[subject]
	if !ok {
		return nil, fmt.Errorf("bus: no event type for subject %s", subject)
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("bus: decode %s: %w", subject, err)
	}
	return m.(Event), nil
}

// SetMeta replaces the Meta of an event.
func SetMeta(e Event, meta *eventsv1.Meta) {
	m := e.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("meta")
	m.Set(fd, protoreflect.ValueOfMessage(meta.ProtoReflect()))
}
