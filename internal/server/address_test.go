package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parleychat/parley/internal/parleytest"
)

// TestS1_OneAddressOneAccount: an address names one account in an
// organisation (issue 11 item 8). A guest cannot take an address of an
// organisation's domain on this server, known account or not; an account
// cannot take a phone number another account of the organisation has, in
// either order and under concurrency; and an address of an organisation's
// domain reaches that organisation's person, never a guest elsewhere.
func TestS1_OneAddressOneAccount(t *testing.T) {
	parleytest.EachStore(t, func(t *testing.T, store string) {
		w := parleytest.StartWorld(t, store)
		contoso := w.CreateTenant("Contoso", "contoso.com")
		w.User(contoso, "alice", false)
		fabrikam := w.CreateTenant("Fabrikam", "fabrikam.com")
		frank := w.User(fabrikam, "frank", false)

		create := func(admin *parleytest.Client, upn, typ, phone string) *parleytest.Response {
			t.Helper()
			body := map[string]any{"displayName": parleytest.DisplayName(upn), "userPrincipalName": upn,
				"passwordProfile": map[string]string{"password": "a shadow's own password"}, "userType": typ}
			if phone != "" {
				body["mobilePhone"] = phone
			}
			return admin.Do("POST", "/v1.0/users", body)
		}

		t.Run("a guest at another organisation's domain", func(t *testing.T) {
			taken := create(fabrikam.Admin, "alice@contoso.com", "Guest", "")
			free := create(fabrikam.Admin, "nobody@contoso.com", "Guest", "")
			if taken.Status != http.StatusConflict || taken.ErrorCode() != "conflict" {
				t.Errorf("guest alice@contoso.com in Fabrikam: got %d %s, want 409 conflict", taken.Status, taken.Body)
			}
			if a, b := strings.ReplaceAll(taken.Body2(), "alice@", "<x>@"), strings.ReplaceAll(free.Body2(), "nobody@", "<x>@"); taken.Status != free.Status || a != b {
				t.Errorf("an address with a member: %d %s; one without: %d %s; want the same answer (it depends on the domain only)", taken.Status, a, free.Status, b)
			}
			// Outside addresses stay fine for guests.
			if r := create(fabrikam.Admin, "pat@gmail.com", "Guest", ""); r.Status != http.StatusCreated {
				t.Errorf("guest pat@gmail.com: got %d %s, want 201", r.Status, r.Body)
			}
		})

		t.Run("one phone number per organisation", func(t *testing.T) {
			if r := create(contoso.Admin, "carl@contoso.com", "Member", "+14155550100"); r.Status != http.StatusCreated {
				t.Fatalf("member with a phone: got %d %s", r.Status, r.Body)
			}
			if r := create(contoso.Admin, "dave@outside.example", "Guest", "+14155550100"); r.Status != http.StatusConflict || r.ErrorCode() != "conflict" {
				t.Errorf("guest with carl's phone: got %d %s, want 409 conflict", r.Status, r.Body)
			}
			if r := create(contoso.Admin, "erin@outside.example", "Guest", "+14155550101"); r.Status != http.StatusCreated {
				t.Fatalf("guest with a phone: got %d %s", r.Status, r.Body)
			}
			if r := create(contoso.Admin, "erin@contoso.com", "Member", "+14155550101"); r.Status != http.StatusConflict || r.ErrorCode() != "conflict" {
				t.Errorf("member with erin's phone: got %d %s, want 409 conflict", r.Status, r.Body)
			}
			// Another organisation may have the number (a person with two jobs).
			if r := create(fabrikam.Admin, "carl@fabrikam.com", "Member", "+14155550100"); r.Status != http.StatusCreated {
				t.Errorf("member of another organisation with carl's phone: got %d %s, want 201", r.Status, r.Body)
			}
		})

		t.Run("concurrent accounts with one phone number", func(t *testing.T) {
			const n = 12
			statuses := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					upn, typ := fmt.Sprintf("race%d@contoso.com", i), "Member"
					if i%2 == 1 {
						upn, typ = fmt.Sprintf("race%d@outside.example", i), "Guest"
					}
					statuses[i] = create(contoso.Admin, upn, typ, "+14155550177").Status
				})
			}
			close(start)
			wg.Wait()
			created := 0
			for _, st := range statuses {
				switch st {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
				default:
					t.Errorf("concurrent create: got %d, want 201 or 409", st)
				}
			}
			if created != 1 {
				t.Errorf("%d concurrent accounts with one phone number: %d created (%v), want exactly 1", n, created, statuses)
			}
		})

		t.Run("an organisation's address reaches its own person", func(t *testing.T) {
			// Fabrikam made a guest for an address before Northwind verified
			// its domain; afterwards the address is Northwind's.
			if r := create(fabrikam.Admin, "nina@northwind.example", "Guest", ""); r.Status != http.StatusCreated {
				t.Fatalf("guest nina@northwind.example before Northwind exists: got %d %s", r.Status, r.Body)
			}
			northwind := w.CreateTenant("Northwind", "northwind.example")
			nina := w.User(northwind, "nina", false)
			r := frank.ChatWith(parleytest.ByEmail("nina@northwind.example"))
			if r.Status != http.StatusCreated {
				t.Fatalf("frank chats with nina@northwind.example: got %d %s", r.Status, r.Body)
			}
			chat := r.Map(t)["id"].(string)
			if m := otherMember(t, frank, chat); m["requestState"] != "pending" {
				t.Errorf("frank's chat with nina@northwind.example was accepted at once: it reached Fabrikam's guest, not Northwind's nina")
			}
			if _, ok := findRequest(mustRequests(t, nina), chat); !ok {
				t.Errorf("Northwind's nina did not get frank's request")
			}
		})
	})
}
