package request

import "testing"

func TestARequestMovesForwardOnly(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to State
		want     State
		moved    bool
	}{
		{"the extraction starts", Instructed, Extracting, Extracting, true},
		{"it completes", Extracting, Extracted, Extracted, true},
		{"a late ExtractionStarted after completion changes nothing", Extracted, Extracting, Extracted, false},
		{"a completion heard before the start", Instructed, Extracted, Extracted, true},
		{"a final failure", Extracting, Failed, Failed, true},
		{"a late ExtractionStarted after the final failure changes nothing: only a retry leaves failed", Failed, Extracting, Failed, false},
		{"nor does a late completion", Failed, Extracted, Failed, false},
		{"a retried request is instructed again, and its extraction starts", Instructed, Extracting, Extracting, true},
		{"and may fail again", Extracting, Failed, Failed, true},
		{"every deliverable settled", Extracted, Completed, Completed, true},
		{"a cancelled request stays cancelled", Cancelled, Extracting, Cancelled, false},
		{"a rejected request stays rejected", Rejected, Extracted, Rejected, false},
		{"an old failure after completion changes nothing", Completed, Failed, Completed, false},
		{"nothing moves a request back to deposited", Instructed, Deposited, Instructed, false},
	} {
		got, moved := Follow(c.from, c.to)
		if got != c.want || moved != c.moved {
			t.Errorf("%s: Follow(%s, %s) = %s, %v; want %s, %v", c.name, c.from, c.to, got, moved, c.want, c.moved)
		}
	}
}

func TestWhatTheRequesterAndTheDREALMayDo(t *testing.T) {
	for _, c := range []struct {
		from   State
		action string
		ok     bool
	}{
		{Deposited, "cancelled", true},
		{Instructed, "cancelled", false}, // the extraction may already run
		{Extracting, "cancelled", false},
		{Deposited, "instructed", true},
		{Deposited, "rejected", true},
		{Instructed, "instructed", false},
		{Rejected, "instructed", false},
		{Cancelled, "instructed", false},
		{Failed, "retried", true},
		{Extracted, "retried", false},
		{Deposited, "retried", false},
	} {
		if err := Decide(c.from, c.action); (err == nil) != c.ok {
			t.Errorf("a %s request %s: %v", c.from, c.action, err)
		}
	}
}

func TestDeliverablesMoveForwardAndSettle(t *testing.T) {
	if s, moved := FollowDeliverable(Staged, UnderReview); s != UnderReview || !moved {
		t.Error("review opened")
	}
	if s, moved := FollowDeliverable(Published, Released); s != Published || moved {
		t.Error("a late ReleaseGranted after publication moved it back")
	}
	if s, moved := FollowDeliverable(Withheld, Published); s != Withheld || moved {
		t.Error("a withheld F2 was published")
	}
	if s, moved := FollowDeliverable(UnderReview, Withheld); s != Withheld || !moved {
		t.Error("withheld")
	}
	if Settled([]DeliverableState{Published, Released}) || !Settled([]DeliverableState{Published, Withheld}) || Settled(nil) {
		t.Error("Settled")
	}
}

// An extraction event of a run started from an earlier instruction
// (before a retry) is stale; one whose cause is unknown is not.
func TestAnEventOfAnEarlierRunIsStale(t *testing.T) {
	for _, c := range []struct {
		name                     string
		cause, latestInstruction string
		stale                    bool
	}{
		{"the run of the latest instruction", "ev-2", "ev-2", false},
		{"the run of the instruction before the retry", "ev-1", "ev-2", true},
		{"an event without its cause", "", "ev-2", false},
		{"a request instructed before causes were kept", "ev-1", "", false},
	} {
		if got := Stale(c.cause, c.latestInstruction); got != c.stale {
			t.Errorf("%s: Stale(%q, %q) = %v", c.name, c.cause, c.latestInstruction, got)
		}
	}
}
