package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), some
// tens of milliseconds here. Stored with each hash, so they can grow
// without invalidating the hashes made before.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// MinPasswordLength is the shortest password accepted, MaxPasswordBytes
// the longest.
const (
	MinPasswordLength = 12
	MaxPasswordBytes  = 1024
)

// CheckPassword says what is wrong with a new password, or nil.
func CheckPassword(p string) error {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLength:
		return fmt.Errorf("at least %d characters", MinPasswordLength)
	case len(p) > MaxPasswordBytes:
		return fmt.Errorf("at most %d bytes", MaxPasswordBytes)
	case strings.TrimSpace(p) != p:
		return errors.New("no spaces at the start or the end")
	}
	return nil
}

// argonSlots bounds the argon2 hashes this process computes at once: each
// takes 19 MiB and a core for some tens of milliseconds, so a burst of
// sign-ins waits its turn instead of exhausting the memory.
var argonSlots = make(chan struct{}, min(4, runtime.GOMAXPROCS(0)))

// argonSlot waits for a slot; release gives it back.
func argonSlot(ctx context.Context) (release func(), err error) {
	select {
	case argonSlots <- struct{}{}:
		return func() { <-argonSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// HashPassword returns the argon2id hash of p in the PHC string format.
func HashPassword(p string) (string, error) { return hashPassword(context.Background(), p) }

func hashPassword(ctx context.Context, p string) (string, error) {
	release, err := argonSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(p), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// errBadHash: a stored hash this code cannot read.
var errBadHash = errors.New("account: unreadable password hash")

// VerifyPassword says whether p matches the PHC-format argon2id hash.
func VerifyPassword(p, hash string) (bool, error) {
	return verifyPassword(context.Background(), p, hash)
}

// verifyPassword is VerifyPassword waiting at most as long as ctx for
// its turn (an error of ctx then).
func verifyPassword(ctx context.Context, p, hash string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var memory, iterations uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iterations, &threads); err != nil || memory == 0 || iterations == 0 || threads == 0 {
		return false, errBadHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	release, err := argonSlot(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	got := argon2.IDKey([]byte(p), salt, iterations, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// decoyHash is verified against when an email matches no account, so
// that the answer takes as long as for a real one. Made on first use, not
// at start: hashing costs every sinp process 19 MiB otherwise.
var decoyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("decoy password, never matched")
	return h
})
