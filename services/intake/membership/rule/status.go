// Package rule is the membership registry's domain, pure and without I/O:
// a structure's status (pre-adherent, adherent, withdrawn) and how it may
// change, the promotion of a pre-adherent on which each pôle gives its
// position before the administrator decides, and what a structure's
// profile (name, type, taxonomic and geographic scope, contact) must look
// like. The store remembers, the API checks who calls; this package says
// what is allowed.
package rule

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is a structure's place in the registry.
type Status int

const (
	// None: not in the registry (a structure before it enters it).
	None Status = iota
	// PreAdherent has asked to join; it receives F1 only.
	PreAdherent
	// Adherent was promoted; only adherents receive F2.
	Adherent
	// Withdrawn left (or was removed from) the registry.
	Withdrawn
)

var statusNames = []string{"none", "pre-adherent", "adherent", "withdrawn"}

func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// ParseStatus reads "pre-adherent", "adherent" or "withdrawn".
func ParseStatus(s string) (Status, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pre-adherent", "pre_adherent", "preadherent":
		return PreAdherent, nil
	case "adherent":
		return Adherent, nil
	case "withdrawn":
		return Withdrawn, nil
	}
	return None, fmt.Errorf("%w: %q (want pre-adherent, adherent or withdrawn)", ErrBadStatus, s)
}

// Change is one change of a structure's status, as its history shows it.
// A refused promotion is recorded too, as a change from pre-adherent to
// pre-adherent: the decision is part of the structure's story.
type Change struct {
	At      time.Time
	From    Status
	To      Status
	By      string
	Remarks string
}

// Why a change is refused. Callers test them with errors.Is.
var (
	ErrBadStatus        = errors.New("rule: unknown status")
	ErrAlreadyIn        = errors.New("rule: the structure is already in the registry")
	ErrNotIn            = errors.New("rule: the structure is not in the registry")
	ErrNotPreAdherent   = errors.New("rule: only a pre-adherent can be promoted")
	ErrPromotionOpen    = errors.New("rule: a promotion is already open")
	ErrNoOpenPromotion  = errors.New("rule: no promotion is open")
	ErrUnknownPole      = errors.New("rule: unknown pôle")
	ErrArgumentRequired = errors.New("rule: an objection needs its argument")
	ErrRemarksRequired  = errors.New("rule: this decision needs remarks")
	ErrAlreadyWithdrawn = errors.New("rule: the structure is already withdrawn")
	ErrNotWithdrawn     = errors.New("rule: only a withdrawn structure can be re-admitted")
)
