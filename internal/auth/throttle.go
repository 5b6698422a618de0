package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/limit"
)

// Throttle limits sign-in attempts so that a guesser is slowed down without
// locking the account's owner out (docs/decisions.md, "Limits"):
//   - per client address, failures from it on any account (Client);
//   - per account and client address, a back-off that only that address
//     raises (Pair): the guesser's own address waits, the owner's does not;
//   - per account, a back-off over the addresses the account never signed
//     in from (Account): guessing from many addresses is slowed, while an
//     address that signed in within Known keeps signing in.
//
// Every attempt is counted before its password is checked (Reserve), and
// Settle gives back what a success does not owe, so attempts that arrive
// at the same instant, on any node, are counted one by one.
type Throttle struct {
	Store   limit.Store
	Client  limit.Bucket
	Pair    limit.Backoff
	Account limit.Backoff
	Known   time.Duration
}

// NewThrottle returns the default throttle: per client address 30
// failures, then one every 6 s; per account and address 5 attempts, then
// waits from 1 s doubling up to 5 min; per account from unknown addresses
// 20 attempts, then the same waits; an address is known for 30 days after
// a sign-in from it.
func NewThrottle(st limit.Store) *Throttle {
	return &Throttle{
		Store:   st,
		Client:  limit.Bucket{Burst: 30, Every: 6 * time.Second},
		Pair:    limit.Backoff{Free: 5, Base: time.Second, Max: 5 * time.Minute, Idle: 30 * 24 * time.Hour},
		Account: limit.Backoff{Free: 20, Base: time.Second, Max: 5 * time.Minute, Idle: time.Hour},
		Known:   30 * 24 * time.Hour,
	}
}

func (t *Throttle) keys(name, client string) []string {
	return []string{"signin.client:" + client, "signin.pair:" + client + " " + name, "signin.account:" + name}
}

// Reserve counts a sign-in attempt, or answers rateLimited (with the wait)
// and counts nothing.
func (t *Throttle) Reserve(ctx context.Context, now time.Time, name, client string) error {
	var retry time.Duration
	err := t.Store.UpdateLimits(ctx, t.keys(name, client), now, func(s []limit.State) {
		c, p, a := s[0], s[1], s[2]
		known := !p.Seen.IsZero() && now.Sub(p.Seen) < t.Known
		w1, ok1 := t.Client.Take(&c, now, 1)
		w2, ok2 := t.Pair.Reserve(&p, now)
		w3, ok3 := time.Duration(0), true
		if !known {
			w3, ok3 = t.Account.Reserve(&a, now)
		}
		if ok1 && ok2 && ok3 {
			s[0], s[1], s[2] = c, p, a
			return
		}
		for _, w := range []time.Duration{w1, w2, w3} {
			retry = max(retry, w)
		}
	})
	if err != nil {
		return fmt.Errorf("throttle sign-in: %w", err)
	}
	if retry > 0 {
		return errcode.RateLimit(max(retry, time.Second), "Too many sign-in attempts; try again later.")
	}
	return nil
}

// Settle ends a reserved attempt: a success gives the client's failure
// back, forgets the address's attempts on the account and makes the
// address known to it. A failure stays counted.
func (t *Throttle) Settle(ctx context.Context, now time.Time, name, client string, success bool) error {
	if !success {
		return nil
	}
	keys := t.keys(name, client)[:2]
	return t.Store.UpdateLimits(ctx, keys, now, func(s []limit.State) {
		t.Client.Give(&s[0], now, 1)
		t.Pair.Reset(&s[1], now)
	})
}
