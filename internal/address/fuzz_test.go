package address_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/errcode"
)

// FuzzParsePhone checks that ParsePhone never panics, fails only with
// badRequest, and that what it returns is a fixed point: the E.164 value
// parses to itself in any region. Parse agrees with it on inputs without
// an at sign (and with ParseEmail on the others, in FuzzParseEmail).
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
		// Parse, which callers that take either kind use, reads an input
		// without an at sign as ParsePhone does.
		if !strings.ContainsAny(in, "@\uFF20") {
			p, perr := address.Parse(in, region)
			if p != a || errcode.Message(perr) != errcode.Message(err) {
				t.Fatalf("Parse(%q, %q) = %+v, %v; ParsePhone = %+v, %v", in, region, p, perr, a, err)
			}
		}
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
// badRequest, and that what it returns is a fixed point: valid UTF-8 with
// no invisible characters and a lower-case ASCII domain.
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
		"zz4@contoso.com\u200b",
		"zz4@ｃｏｎｔｏｓｏ.com",
		"ｚｚ４＠ｃｏｎｔｏｓｏ．ｃｏｍ",
		"zz4@c\u043entoso.com",
		"p\u0430t@gmail.com",
		"bob@xn--bcher-kva.de",
		"bob@xn--ntoso-3ye.com",
		"bob@例え。jp",
		"иван@почта.рф",
		"ΑΣ@x.gr",
		"bob@faß.de",
		"a\u0301@x.com",
		"bob@\u202egmail.com",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a, err := address.ParseEmail(in)
		// Parse reads an input with an at sign (or a full-width one) as
		// ParseEmail does.
		if strings.ContainsAny(in, "@\uFF20") {
			p, perr := address.Parse(in, "US")
			if p != a || errcode.Message(perr) != errcode.Message(err) {
				t.Fatalf("Parse(%q) = %+v, %v; ParseEmail = %+v, %v", in, p, perr, a, err)
			}
		}
		if err != nil {
			if !errcode.Is(err, errcode.BadRequest) {
				t.Fatalf("ParseEmail(%q) error code = %q, want badRequest: %v", in, errcode.Of(err), err)
			}
			return
		}
		if a.Kind != address.Email || a.Domain() == "" || len(a.Value) > 254 {
			t.Fatalf("ParseEmail(%q) = %+v, want an email address with a domain", in, a)
		}
		if !utf8.ValidString(a.Value) {
			t.Fatalf("ParseEmail(%q) = %q, not valid UTF-8", in, a.Value)
		}
		for _, r := range a.Value {
			if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Z, unicode.Other_Default_Ignorable_Code_Point) {
				t.Fatalf("ParseEmail(%q) = %q, which has the invisible character %U", in, a.Value, r)
			}
		}
		for i := 0; i < len(a.Domain()); i++ {
			if c := a.Domain()[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
				t.Fatalf("ParseEmail(%q) = %q, want its domain in lower-case ASCII", in, a.Value)
			}
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
