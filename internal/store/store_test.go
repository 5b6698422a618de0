package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// mustTenantUsers creates a tenant of domain with n member accounts,
// u0@domain … (u0 is the account the tenant is created with).
func mustTenantUsers(tb testing.TB, db *store.DB, domain string, n int) []identity.User {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	tn := identity.Tenant{ID: identity.NewTenantID(), DisplayName: domain, Domains: []string{domain}, CreatedAt: now}
	users := make([]identity.User, n)
	for i := range users {
		upn := fmt.Sprintf("u%d@%s", i, domain)
		users[i] = identity.User{ID: identity.NewUserID(), TenantID: tn.ID, Kind: identity.Member, Role: identity.RoleMember,
			DisplayName: upn, UPN: upn, Mail: upn, AllowChatsFromOrganizations: true, CreatedAt: now}
	}
	if err := db.CreateTenant(ctx, tn, users[0], "hash"); err != nil {
		tb.Fatalf("CreateTenant: %v", err)
	}
	for _, u := range users[1:] {
		if err := db.CreateUser(ctx, u, "hash"); err != nil {
			tb.Fatalf("CreateUser: %v", err)
		}
	}
	return users
}

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// TestOpenSQLiteWAL checks that Open leaves the database file in WAL mode,
// read back through a separate connection (docs/decisions.md "Tests").
func TestOpenSQLiteWAL(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "dir", "parley.db")
	db, err := store.Open(testContext(t), store.Config{Dialect: store.SQLite, Path: path})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	if got, want := db.Dialect(), store.SQLite; got != want {
		t.Errorf("Dialect(): got %q, want %q", got, want)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil (idempotent)", err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var mode string
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatalf("PRAGMA journal_mode: %v", err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode: got %q, want wal", mode)
	}
}

func TestOpenUnknownDialect(t *testing.T) {
	t.Parallel()
	db, err := store.Open(testContext(t), store.Config{Dialect: "nosuch"})
	if err == nil {
		db.Close()
		t.Fatal("store.Open(nosuch): got nil error, want one")
	}
}

// TestGroupCommitConcurrentWrites sends many writes at once through the
// group-commit writer: each must succeed and be readable afterwards.
func TestGroupCommitConcurrentWrites(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := testContext(t)
		const n = 200
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = db.SetSetting(ctx, fmt.Sprintf("k%03d", i), fmt.Sprintf("v%03d", i))
			})
		}
		before := db.Stats()
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("SetSetting(k%03d): %v", i, err)
			}
		}
		// Group commit: 200 concurrent writes must not take 200 commits
		// (each commit is an fsync with synchronous=FULL).
		st := db.Stats()
		writes, commits := st.Writes-before.Writes, st.Commits-before.Commits
		t.Logf("%d writes in %d commits", writes, commits)
		if writes != n || commits >= n/2 {
			t.Errorf("got %d writes in %d commits, want %d writes in fewer than %d commits", writes, commits, n, n/2)
		}
		for i := range n {
			got, err := db.GetSetting(ctx, fmt.Sprintf("k%03d", i))
			if err != nil {
				t.Errorf("GetSetting(k%03d): %v", i, err)
				continue
			}
			if want := fmt.Sprintf("v%03d", i); got != want {
				t.Errorf("GetSetting(k%03d): got %q, want %q", i, got, want)
			}
		}
		// An empty value deletes; a missing key is notFound, not ("", nil).
		if err := db.SetSetting(ctx, "k000", ""); err != nil {
			t.Fatalf("SetSetting(k000, \"\"): %v", err)
		}
		if _, err := db.GetSetting(ctx, "k000"); !errcode.Is(err, errcode.NotFound) {
			t.Errorf("GetSetting(deleted): got %v, want code %s", err, errcode.NotFound)
		}
	})
}

// TestGroupCommitFailureIsolated sends distinct and duplicate accounts at
// once: in a batch, a write that fails (unique sign-in name) rolls back
// alone and every other write of the batch is stored.
func TestGroupCommitFailureIsolated(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := testContext(t)
		const distinct, dupEvery = 160, 4 // every 4th name is sent twice
		type attempt struct {
			upn string
			id  identity.UserID
		}
		var attempts []attempt
		for i := range distinct {
			upn := fmt.Sprintf("user%03d@example.com", i)
			attempts = append(attempts, attempt{upn: upn, id: identity.NewUserID()})
			if i%dupEvery == 0 {
				attempts = append(attempts, attempt{upn: upn, id: identity.NewUserID()})
			}
		}
		errs := make([]error, len(attempts))
		now := time.Now().UTC()
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, a := range attempts {
			wg.Go(func() {
				<-start
				u := identity.User{ID: a.id, Kind: identity.Personal, Role: identity.RoleMember, DisplayName: a.upn,
					UPN: a.upn, Mail: a.upn, AllowChatsFromOrganizations: true, CreatedAt: now}
				errs[i] = db.CreateUser(ctx, u, "hash")
			})
		}
		close(start)
		wg.Wait()

		stored := map[string]identity.UserID{}
		conflicts := 0
		for i, err := range errs {
			switch {
			case err == nil:
				if prev, ok := stored[attempts[i].upn]; ok {
					t.Errorf("CreateUser(%s): both %s and %s succeeded, want one conflict", attempts[i].upn, prev, attempts[i].id)
				}
				stored[attempts[i].upn] = attempts[i].id
			case errcode.Is(err, errcode.Conflict):
				conflicts++
			default:
				t.Errorf("CreateUser(%s): got %v, want nil or code %s", attempts[i].upn, err, errcode.Conflict)
			}
		}
		if got, want := conflicts, len(attempts)-distinct; got != want {
			t.Errorf("conflicts: got %d, want %d", got, want)
		}
		if got, want := len(stored), distinct; got != want {
			t.Errorf("stored accounts: got %d, want %d", got, want)
		}
		for upn, id := range stored {
			us, err := db.FindUsersByAddress(ctx, upn)
			if err != nil {
				t.Fatalf("FindUsersByAddress(%s): %v", upn, err)
			}
			var got []identity.UserID
			for _, u := range us {
				got = append(got, u.ID)
			}
			if diff := cmp.Diff([]identity.UserID{id}, got); diff != "" {
				t.Errorf("FindUsersByAddress(%s) (-want +got):\n%s", upn, diff)
			}
		}
	})
}

// TestGroupCommitPartialWriteRollsBack creates organisations at once, some
// with a domain already claimed in the same burst: such a write has already
// inserted its tenant row when the domain insert fails, and that row (and its
// admin) must roll back with it while the rest of the batch is stored.
func TestGroupCommitPartialWriteRollsBack(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		ctx := testContext(t)
		const distinct, dupEvery = 60, 3
		var domains []string
		for i := range distinct {
			dom := fmt.Sprintf("org%03d.example", i)
			domains = append(domains, dom)
			if i%dupEvery == 0 {
				domains = append(domains, dom)
			}
		}
		errs := make([]error, len(domains))
		now := time.Now().UTC()
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, dom := range domains {
			wg.Go(func() {
				<-start
				tn := identity.Tenant{ID: identity.NewTenantID(), DisplayName: dom, Domains: []string{dom}, CreatedAt: now}
				admin := identity.User{ID: identity.NewUserID(), TenantID: tn.ID, Kind: identity.Member, Role: identity.RoleAdmin,
					DisplayName: "Admin", UPN: "admin@" + dom, Mail: "admin@" + dom, CreatedAt: now}
				errs[i] = db.CreateTenant(ctx, tn, admin, "hash")
			})
		}
		close(start)
		wg.Wait()
		taken := 0
		for i, err := range errs {
			switch {
			case err == nil:
			case errcode.Is(err, errcode.DomainTaken):
				taken++
			default:
				t.Errorf("CreateTenant(%s): got %v, want nil or code %s", domains[i], err, errcode.DomainTaken)
			}
		}
		if got, want := taken, len(domains)-distinct; got != want {
			t.Errorf("domainTaken answers: got %d, want %d", got, want)
		}
		ts, err := db.FindTenants(ctx)
		if err != nil {
			t.Fatalf("FindTenants: %v", err)
		}
		if got, want := len(ts), distinct; got != want {
			t.Errorf("tenants stored: got %d, want %d (a refused write left its tenant row behind?)", got, want)
		}
		for _, tn := range ts {
			if len(tn.Domains) != 1 {
				t.Errorf("tenant %s: got domains %q, want exactly one", tn.ID, tn.Domains)
			}
			us, err := db.FindUsers(ctx, tn.ID, identity.UserFilter{}, 100)
			if err != nil {
				t.Fatalf("FindUsers(%s): %v", tn.ID, err)
			}
			if len(us) != 1 {
				t.Errorf("tenant %s: got %d users, want its one admin", tn.ID, len(us))
			}
		}
		if n, err := db.CountTenants(ctx); err != nil || n != distinct {
			t.Errorf("CountTenants: got %d, %v; want %d, nil", n, err, distinct)
		}
	})
}

// TestCloseWhileWriting closes the store while writers are busy: every
// write must return (done or "store is closed"), none may hang.
func TestCloseWhileWriting(t *testing.T) {
	t.Parallel()
	for round := range 50 {
		db, err := store.Open(testContext(t), store.Config{Dialect: store.SQLite, Path: filepath.Join(t.TempDir(), "parley.db")})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Go(func() {
				for i := 0; ; i++ {
					if db.SetSetting(context.Background(), fmt.Sprintf("k%d-%d", g, i), "v") != nil {
						return // closed
					}
				}
			})
		}
		time.Sleep(2 * time.Millisecond)
		if err := db.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			t.Fatalf("round %d: a write still waits 3s after Close returned", round)
		}
	}
}

// TestMigrationsMatch checks that both dialects have the same migration
// numbers and names (docs/decisions.md "Tests").
func TestMigrationsMatch(t *testing.T) {
	t.Parallel()
	type key struct {
		Version int
		Name    string
	}
	keys := func(d store.Dialect) []key {
		t.Helper()
		ms, err := store.Migrations(d)
		if err != nil {
			t.Fatalf("Migrations(%s): %v", d, err)
		}
		if len(ms) == 0 {
			t.Fatalf("Migrations(%s): got none", d)
		}
		var out []key
		for i, m := range ms {
			// Numbers are unique and increasing; they are given out in
			// ranges to changes made side by side, so a range may leave a gap.
			if m.Version < 1 || (i > 0 && m.Version <= ms[i-1].Version) {
				t.Errorf("Migrations(%s)[%d]: version %d is not above the one before", d, i, m.Version)
			}
			if m.SQL == "" {
				t.Errorf("Migrations(%s) %d: empty SQL", d, m.Version)
			}
			out = append(out, key{m.Version, m.Name})
		}
		return out
	}
	if diff := cmp.Diff(keys(store.SQLite), keys(store.Postgres)); diff != "" {
		t.Errorf("migrations (-sqlite +postgres):\n%s", diff)
	}
}

// TestReopenKeepsData checks that a reopened store neither re-runs
// migrations nor loses committed writes.
func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "parley.db")
	ctx := testContext(t)
	for i := range 2 {
		db, err := store.Open(ctx, store.Config{Dialect: store.SQLite, Path: path})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if i == 0 {
			err = db.SetSetting(ctx, "kept", "yes")
		} else {
			var v string
			v, err = db.GetSetting(ctx, "kept")
			if err == nil && v != "yes" {
				err = fmt.Errorf("got %q, want yes", v)
			}
		}
		if cerr := db.Close(); cerr != nil {
			t.Fatalf("close %d: %v", i, cerr)
		}
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}

// BenchmarkSetSettingParallel measures group-commit write throughput.
func BenchmarkSetSettingParallel(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			if d == store.Postgres {
				storetest.RequirePostgres(b)
			}
			db := storetest.Open(b, d)
			ctx := context.Background()
			var n atomic.Int64
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					if err := db.SetSetting(ctx, fmt.Sprintf("bench%d", i), "v"); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
		})
	}
}
