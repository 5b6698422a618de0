package address_test

import (
	"testing"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/errcode"
)

// FuzzParsePhone checks that ParsePhone never panics, fails only with
// badRequest, and that what it returns is a fixed point: the E.164 value
// parses to itself in any region.
func FuzzParsePhone(f *testing.F) {
	for _, seed := range []struct{ in, region string }{
		{"(415) 555-0100", "US"},
		{"+1 415 555 0100", "DE"},
		{"0151 23456789", "DE"},
		{"0049 151 23456789", "DE"},
		{"020 7946 0958", "GB"},
		{"+44 (0)20 7946 0958", ""},
		{"02 1234 5678", "IT"},
		{"tel:+1-415-555-0100", ""},
		{"1-800-FLOWERS", "US"},
		{"+1 415 555 0100 ext. 12", "US"},
		{"４１５ ５５５ ０１００", "US"},
		{"+٤٤ 20 7946 0958", ""},
		{"", "US"},
		{"+", ""},
		{"00", "DE"},
		{"bob@example.com", "US"},
		{"\xff\xfe", "US"},
	} {
		f.Add(seed.in, seed.region)
	}
	f.Fuzz(func(t *testing.T, in, region string) {
		a, err := address.ParsePhone(in, region)
		if err != nil {
			if !errcode.Is(err, errcode.BadRequest) {
				t.Fatalf("ParsePhone(%q, %q) error code = %q, want badRequest: %v", in, region, errcode.Of(err), err)
			}
			return
		}
		if a.Kind != address.Phone || len(a.Value) < 2 || a.Value[0] != '+' {
			t.Fatalf("ParsePhone(%q, %q) = %+v, want a phone number in E.164", in, region, a)
		}
		for _, r := range []string{region, "", "US", "DE"} {
			again, err := address.ParsePhone(a.Value, r)
			if err != nil {
				t.Fatalf("ParsePhone(%q, %q) = %q, but re-parsing it in region %q: %v", in, region, a.Value, r, err)
			}
			if again != a {
				t.Fatalf("ParsePhone(%q, %q) = %q, re-parsed in region %q = %q", in, region, a.Value, r, again.Value)
			}
		}
	})
}

// FuzzParseEmail checks that ParseEmail never panics, fails only with
// badRequest, and that what it returns is a fixed point.
func FuzzParseEmail(f *testing.F) {
	for _, seed := range []string{
		"bob@example.com",
		"  Bob.Smith@Example.COM ",
		"admin@localhost",
		"Jürgen@Bücher.de",
		"bob+tag@mail.example.co.uk",
		"Bob <b@x.com>",
		"<b@x.com>",
		"b@x.com (Bob)",
		`"bob smith"@x.com`,
		"bob@[127.0.0.1]",
		"bob@x..com",
		"a@b@c",
		"İ@x.com",
		"\xff@x.com",
		"",
		"@",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := address.ParseEmail(in)
		if err != nil {
			if !errcode.Is(err, errcode.BadRequest) {
				t.Fatalf("ParseEmail(%q) error code = %q, want badRequest: %v", in, errcode.Of(err), err)
			}
			return
		}
		if a.Kind != address.Email || a.Domain() == "" || len(a.Value) > 254 {
			t.Fatalf("ParseEmail(%q) = %+v, want an email address with a domain", in, a)
		}
		again, err := address.ParseEmail(a.Value)
		if err != nil {
			t.Fatalf("ParseEmail(%q) = %q, but re-parsing it: %v", in, a.Value, err)
		}
		if again != a {
			t.Fatalf("ParseEmail(%q) = %q, re-parsed = %q", in, a.Value, again.Value)
		}
	})
}
