package auth

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/retry"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
)

// PublishKey announces a signer's public key on sinp.auth.key, so that
// every service can verify its tokens.
func PublishKey(ctx context.Context, js jetstream.JetStream, s Signer, issuer string) error {
	ev := &eventsv1.SigningKey{Meta: &eventsv1.Meta{EventId: "key-" + s.KeyID, OccurredAt: timestamppb.Now(), Producer: issuer},
		KeyId: s.KeyID, PublicKey: s.Public(), Issuer: issuer}
	b, err := proto.Marshal(ev)
	if err != nil {
		return err
	}
	m := nats.NewMsg(bus.SubjectSigningKey)
	m.Data = b
	m.Header.Set(jetstream.MsgIDHeader, "key-"+s.KeyID)
	if _, err := js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("auth.PublishKey: %w", err)
	}
	return nil
}

// RevocationEvent is the event announcing r (emitted through the issuer's
// outbox, on sinp.auth.revoked).
func RevocationEvent(r Revocation, reason string) *eventsv1.TokenRevoked {
	ev := &eventsv1.TokenRevoked{TokenId: r.TokenID, SessionId: r.Session, Subject: r.Subject, Reason: reason,
		ExpiresAt: timestamppb.New(r.ExpiresAt)}
	if !r.IssuedBefore.IsZero() {
		ev.IssuedBefore = timestamppb.New(r.IssuedBefore)
	}
	return ev
}

// Watch feeds v with every published key and revocation until ctx ends,
// and closes ready once it has read what was published before it
// started. It survives a lost bus (ordered consumers recreate themselves).
func Watch(ctx context.Context, js jetstream.JetStream, v *Verifier, log *slog.Logger, ready chan<- struct{}) error {
	if log == nil {
		log = slog.Default()
	}
	var pending atomic.Int32
	pending.Store(2)
	caughtUp := func() {
		if pending.Add(-1) == 0 && ready != nil {
			close(ready)
		}
	}
	apply := map[string]func(m jetstream.Msg){
		bus.StreamAuthKeys: func(m jetstream.Msg) {
			var ev eventsv1.SigningKey
			if err := proto.Unmarshal(m.Data(), &ev); err != nil || len(ev.PublicKey) != ed25519.PublicKeySize {
				log.Warn("auth: ignoring a malformed signing key", "err", err)
				return
			}
			if !v.Learn(ed25519.PublicKey(ev.PublicKey)) {
				log.Warn("auth: ignoring a signing key published on the bus that this deployment does not trust (SINP_AUTH_TRUSTED_KEYS)",
					"key_id", KeyIDOf(ed25519.PublicKey(ev.PublicKey)), "issuer", ev.GetIssuer())
			}
		},
		bus.StreamRevocations: func(m jetstream.Msg) {
			var ev eventsv1.TokenRevoked
			if err := proto.Unmarshal(m.Data(), &ev); err != nil {
				log.Warn("auth: ignoring a malformed revocation", "err", err)
				return
			}
			r := Revocation{TokenID: ev.TokenId, Session: ev.SessionId, Subject: ev.Subject, ExpiresAt: ev.GetExpiresAt().AsTime()}
			if ev.IssuedBefore != nil {
				r.IssuedBefore = ev.IssuedBefore.AsTime()
			}
			v.Revoke(r)
		},
	}
	for stream, fn := range apply {
		go watchStream(ctx, js, stream, fn, caughtUp, log)
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			v.Forget(now)
		}
	}
}

func watchStream(ctx context.Context, js jetstream.JetStream, stream string, apply func(jetstream.Msg), caughtUp func(), log *slog.Logger) {
	b := retry.Backoff{Min: 200 * time.Millisecond, Max: 5 * time.Second}
	var signalled atomic.Bool
	for ctx.Err() == nil {
		err := func() error {
			st, err := js.Stream(ctx, stream)
			if err != nil {
				return err
			}
			info, err := st.Info(ctx)
			if err != nil {
				return err
			}
			last := info.State.LastSeq
			oc, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
			if err != nil {
				return err
			}
			// Caught up when nothing is left to read: an empty stream (its
			// messages aged out or were purged), or the last pending message.
			if (last == 0 || info.State.Msgs == 0) && signalled.CompareAndSwap(false, true) {
				caughtUp()
			}
			cc, err := oc.Consume(func(m jetstream.Msg) {
				apply(m)
				if md, err := m.Metadata(); err == nil && (md.NumPending == 0 || md.Sequence.Stream >= last) && signalled.CompareAndSwap(false, true) {
					caughtUp()
				}
			})
			if err != nil {
				return err
			}
			defer cc.Stop()
			b.Reset()
			select {
			case <-ctx.Done():
				return nil
			case <-cc.Closed():
				return fmt.Errorf("%s: consumer closed", stream)
			}
		}()
		if ctx.Err() != nil {
			return
		}
		d := b.Next()
		if b.Attempts() == 1 || b.Attempts()%10 == 0 {
			log.Warn("auth: cannot read the published keys or revocations; retrying", "stream", stream, "err", err, "in", d)
		}
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
}
