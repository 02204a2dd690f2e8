// Package request is intake's extraction requests: what a requester may
// submit (check.go), how a request's state moves (state.go), its storage,
// its use cases (submit, instruct, cancel, retry, estimate, and the status
// kept from the other services' events) and its API.
package request

import (
	"fmt"
	"slices"

	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
)

// State is where a request stands (DESIGN.md "Requests").
type State string

const (
	Deposited  State = "deposited"
	Instructed State = "instructed"
	Rejected   State = "rejected"
	Cancelled  State = "cancelled"
	Extracting State = "extracting"
	Extracted  State = "extracted"
	Completed  State = "completed"
	Failed     State = "failed"
)

// Proto is the state as the contract spells it.
func (s State) Proto() intakev1.RequestState {
	switch s {
	case Deposited:
		return intakev1.RequestState_REQUEST_STATE_DEPOSITED
	case Instructed:
		return intakev1.RequestState_REQUEST_STATE_INSTRUCTED
	case Rejected:
		return intakev1.RequestState_REQUEST_STATE_REJECTED
	case Cancelled:
		return intakev1.RequestState_REQUEST_STATE_CANCELLED
	case Extracting:
		return intakev1.RequestState_REQUEST_STATE_EXTRACTING
	case Extracted:
		return intakev1.RequestState_REQUEST_STATE_EXTRACTED
	case Completed:
		return intakev1.RequestState_REQUEST_STATE_COMPLETED
	case Failed:
		return intakev1.RequestState_REQUEST_STATE_FAILED
	}
	return intakev1.RequestState_REQUEST_STATE_UNSPECIFIED
}

// StateOf reads a contract state; false for unspecified or unknown.
func StateOf(p intakev1.RequestState) (State, bool) {
	for _, s := range []State{Deposited, Instructed, Rejected, Cancelled, Extracting, Extracted, Completed, Failed} {
		if s.Proto() == p {
			return s, true
		}
	}
	return "", false
}

// historyFailed is the history's entry of a failed extraction, whose
// detail (the extractor's error) only the administrator sees.
const historyFailed = "extraction failed"

// historyCounts is the history's entry of an extraction's counts (rows
// selected, and in no file), which only the administrator sees: to a
// requester, the rows kept out of every file would say how many level-4
// observations lie in a perimeter of its drawing. The requester's entry,
// "extracted", counts only the rows of its files.
const historyCounts = "extraction counts"

// Open states count toward a requester's limit of open requests.
func (s State) Open() bool {
	return s == Deposited || s == Instructed || s == Extracting || s == Extracted || s == Failed
}

// ErrTransition refuses an action the request's state does not allow.
type ErrTransition struct {
	From   State
	Action string
}

func (e ErrTransition) Error() string {
	return fmt.Sprintf("a %s request cannot be %s", e.From, e.Action)
}

// Decide checks what the requester and the DREAL may do: cancel and
// instruct a deposited request only (once instructed, the extraction may
// start at any moment), retry a failed one only.
func Decide(from State, action string) error {
	ok := false
	switch action {
	case "cancelled", "instructed", "rejected":
		ok = from == Deposited
	case "retried":
		ok = from == Failed
	}
	if !ok {
		return ErrTransition{From: from, Action: action}
	}
	return nil
}

// follows says from which states the other services' events move a
// request to each state. Anything else (a redelivered older event, an
// event for a cancelled or rejected request) changes nothing. Nothing
// leaves Failed but the administrator's retry, which makes the request
// Instructed again: an extraction event heard in Failed is a late one
// (the extractor announces a failure once its run has stopped for good).
var follows = map[State][]State{
	Extracting: {Instructed},
	Failed:     {Instructed, Extracting},
	Extracted:  {Instructed, Extracting},
	Completed:  {Extracted},
}

// Stale says whether an extraction event belongs to a run of an earlier
// instruction than the request's latest: the extractor's events name, as
// their cause (Meta.causation_id), the RequestInstructed their run
// started from, and a retry is a new RequestInstructed. Unknown either
// way (an event or a record from before causes were kept) is not stale.
func Stale(cause, latestInstruction string) bool {
	return cause != "" && latestInstruction != "" && cause != latestInstruction
}

// Follow is the state after an event from the extraction (or the
// settlement of every deliverable) would move the request to `to`, and
// whether it moved.
func Follow(from, to State) (State, bool) {
	if slices.Contains(follows[to], from) {
		return to, true
	}
	return from, false
}

// DeliverableState is where one archive stands.
type DeliverableState string

const (
	Staged      DeliverableState = "staged"
	UnderReview DeliverableState = "under_review"
	Released    DeliverableState = "released"
	Published   DeliverableState = "published"
	Withheld    DeliverableState = "withheld"
)

// Proto is the state as the contract spells it.
func (s DeliverableState) Proto() intakev1.DeliverableState {
	switch s {
	case Staged:
		return intakev1.DeliverableState_DELIVERABLE_STATE_STAGED
	case UnderReview:
		return intakev1.DeliverableState_DELIVERABLE_STATE_UNDER_REVIEW
	case Released:
		return intakev1.DeliverableState_DELIVERABLE_STATE_RELEASED
	case Published:
		return intakev1.DeliverableState_DELIVERABLE_STATE_PUBLISHED
	case Withheld:
		return intakev1.DeliverableState_DELIVERABLE_STATE_WITHHELD
	}
	return intakev1.DeliverableState_DELIVERABLE_STATE_UNSPECIFIED
}

var deliverableRank = map[DeliverableState]int{Staged: 0, UnderReview: 1, Released: 2, Published: 3, Withheld: 3}

// FollowDeliverable moves a deliverable forward only; withheld and
// published are final.
func FollowDeliverable(from, to DeliverableState) (DeliverableState, bool) {
	if from == to || from == Withheld || from == Published {
		return from, false
	}
	if deliverableRank[to] > deliverableRank[from] {
		return to, true
	}
	return from, false
}

// Settled says whether every deliverable is published or withheld: the
// request is then completed.
func Settled(states []DeliverableState) bool {
	if len(states) == 0 {
		return false
	}
	for _, s := range states {
		if s != Published && s != Withheld {
			return false
		}
	}
	return true
}
