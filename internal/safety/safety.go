// Package safety holds docs/rules.md §10's spam checks on message requests and
// invitations: per-sender rates, one text sent to many new recipients,
// brand-new senders, and suspension after reports from several distinct
// recipients. Limits are settings (config.Safety). To keep the rule of
// silence (docs/rules.md §4), every new person a sender contacts outside their
// organisation counts the same, whether or not an account owns the
// address. chat calls it; it imports no storage or HTTP package.
package safety

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/limit"
)

// Limits are the thresholds; zero turns a check off.
type Limits struct {
	RequestsPerHour   int
	InvitationsPerDay int
	NewSenderAge      time.Duration
	RepeatRecipients  int
	RepeatWindow      time.Duration
	ReportThreshold   int
}

// Store is the persistence safety needs.
type Store interface {
	limit.Store
	// CountSpamReports counts the distinct people who reported sender.
	CountSpamReports(ctx context.Context, sender identity.UserID) (int, error)
	// RecordRequestContent stores a first-message fingerprint and returns
	// how many distinct chats got it from sender since a time.
	RecordRequestContent(ctx context.Context, sender identity.UserID, hash, chatID string, at, since time.Time) (int, error)
	// FilterRequests files sender's pending requests with a fingerprint
	// (since a time) in their targets' filtered lists.
	FilterRequests(ctx context.Context, sender identity.UserID, hash string, since time.Time) error
}

// Service applies the limits.
type Service struct {
	Store  Store
	Limits Limits
	Now    func() time.Time
}

// requestBuckets are the sender's budgets of new people outside their
// organisation: RequestsPerHour at once, then one back every hour /
// RequestsPerHour, and the same per day.
func (s *Service) requestBuckets(sender identity.UserID) ([]string, []limit.Bucket, []string) {
	return []string{"requests.hour:" + string(sender), "requests.day:" + string(sender)},
		[]limit.Bucket{limit.PerWindow(s.Limits.RequestsPerHour, time.Hour), limit.PerWindow(s.Limits.InvitationsPerDay, 24*time.Hour)},
		[]string{"an hour", "a day"}
}

// CheckNewRequests takes n new people outside the sender's organisation
// from their budgets, all or none, atomically (attempts that arrive
// together, on any node, are counted one by one): forbiddenByPolicy while
// suspended after reports, rateLimited (with a retry time) over a budget.
// A caller that then stores fewer gives them back (ReturnNewRequests).
func (s *Service) CheckNewRequests(ctx context.Context, sender *identity.User, n int) error {
	if n <= 0 {
		return nil
	}
	if s.Limits.ReportThreshold > 0 {
		reports, err := s.Store.CountSpamReports(ctx, sender.ID)
		if err != nil {
			return fmt.Errorf("check requests: %w", err)
		}
		if reports >= s.Limits.ReportThreshold {
			return errcode.New(errcode.ForbiddenByPolicy, "Several people reported your messages as spam, so you cannot start new chats with people outside your organisation for now.")
		}
	}
	now := s.Now()
	keys, buckets, whats := s.requestBuckets(sender.ID)
	refused, retry := -1, time.Duration(0)
	err := s.Store.UpdateLimits(ctx, keys, now, func(st []limit.State) {
		next := slices.Clone(st)
		for i, b := range buckets {
			if w, ok := b.Take(&next[i], now, n); !ok {
				refused, retry = i, w
				return
			}
		}
		copy(st, next)
	})
	if err != nil {
		return fmt.Errorf("check requests: %w", err)
	}
	if refused >= 0 {
		return errcode.RateLimit(max(retry, time.Second), "You can contact at most %d new people outside your organisation in %s; try again later.", buckets[refused].Burst, whats[refused])
	}
	return nil
}

// ReturnNewRequests gives back n people taken by CheckNewRequests that were
// not contacted after all (the chat was not stored).
func (s *Service) ReturnNewRequests(ctx context.Context, sender *identity.User, n int) error {
	if n <= 0 {
		return nil
	}
	now := s.Now()
	keys, buckets, _ := s.requestBuckets(sender.ID)
	err := s.Store.UpdateLimits(ctx, keys, now, func(st []limit.State) {
		for i, b := range buckets {
			b.Give(&st[i], now, n)
		}
	})
	if err != nil {
		return fmt.Errorf("return requests: %w", err)
	}
	return nil
}

// NewSender reports whether sender's requests go to the filtered list
// because the account is brand new (personal accounts only: an
// organisation vouches for its own).
func (s *Service) NewSender(sender *identity.User) bool {
	return s.Limits.NewSenderAge > 0 && sender.Kind == identity.Personal && s.Now().Sub(sender.CreatedAt) < s.Limits.NewSenderAge
}

// fingerprint normalises a text so trivial variations match.
func fingerprint(content string) string {
	f := strings.Join(strings.Fields(strings.ToLower(content)), " ")
	h := sha256.Sum256([]byte(f))
	return hex.EncodeToString(h[:16])
}

// RecordRequestMessage notes a message sent in a pending request; when the
// same text went to too many people, all those requests are filtered.
func (s *Service) RecordRequestMessage(ctx context.Context, sender *identity.User, chatID, content string) error {
	if s.Limits.RepeatRecipients <= 0 || strings.TrimSpace(content) == "" {
		return nil
	}
	now := s.Now()
	since := now.Add(-s.Limits.RepeatWindow)
	hash := fingerprint(content)
	n, err := s.Store.RecordRequestContent(ctx, sender.ID, hash, chatID, now, since)
	if err != nil {
		return fmt.Errorf("record request message: %w", err)
	}
	if n >= s.Limits.RepeatRecipients {
		if err := s.Store.FilterRequests(ctx, sender.ID, hash, since); err != nil {
			return fmt.Errorf("filter requests: %w", err)
		}
	}
	return nil
}
