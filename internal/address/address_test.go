package address_test

import (
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/errcode"
)

func TestParseEmail(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   string // "" means invalid
		domain string
	}{
		{name: "plain", in: "bob@example.com", want: "bob@example.com", domain: "example.com"},
		{name: "lower-cased and trimmed", in: "  Bob.Smith@Example.COM\t", want: "bob.smith@example.com", domain: "example.com"},
		{name: "plus tag", in: "bob+chat@mail.example.co.uk", want: "bob+chat@mail.example.co.uk", domain: "mail.example.co.uk"},
		{name: "dot-free domain", in: "admin@localhost", want: "admin@localhost", domain: "localhost"},
		{name: "hyphen and digits", in: "a_b-c@x-1.example", want: "a_b-c@x-1.example", domain: "x-1.example"},
		{name: "unicode, domain as its A-label", in: "Jürgen@Bücher.de", want: "jürgen@xn--bcher-kva.de", domain: "xn--bcher-kva.de"},
		{name: "A-label as typed", in: "bob@XN--BCHER-KVA.de", want: "bob@xn--bcher-kva.de", domain: "xn--bcher-kva.de"},
		{name: "full-width letters are the plain address", in: "ｚｚ４＠ｃｏｎｔｏｓｏ.com", want: "zz4@contoso.com", domain: "contoso.com"},
		{name: "full-width domain", in: "zz4@ｃｏｎｔｏｓｏ.com", want: "zz4@contoso.com", domain: "contoso.com"},
		{name: "ideographic full stop", in: "bob@例え。jp", want: "bob@xn--r8jz45g.jp", domain: "xn--r8jz45g.jp"},
		{name: "sharp s kept (nontransitional)", in: "bob@faß.de", want: "bob@xn--fa-hia.de", domain: "xn--fa-hia.de"},
		{name: "Cyrillic local part and domain", in: "Иван@почта.рф", want: "иван@xn--80a1acny.xn--p1ai", domain: "xn--80a1acny.xn--p1ai"},
		{name: "Greek domain", in: "bob@ελλάδα.gr", want: "bob@xn--hxakic4aa.gr", domain: "xn--hxakic4aa.gr"},
		{name: "Japanese mixes Latin, Han and kana", in: "bob@sonyソニー株式会社.jp", want: "bob@xn--sony-jo4c6cxq496ro93a89se46b.jp", domain: "xn--sony-jo4c6cxq496ro93a89se46b.jp"},
		{name: "Latin with Hangul (TR39 allows it)", in: "bob@abc한국.kr", want: "bob@xn--abc-ot8lk11n.kr", domain: "xn--abc-ot8lk11n.kr"},
		{name: "hyphens in positions 3 and 4", in: "bob@r3--sn-x.example", want: "bob@r3--sn-x.example", domain: "r3--sn-x.example"},
		{name: "max length", in: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61), want: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61), domain: strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)},

		{name: "empty", in: ""},
		{name: "blank", in: "   "},
		{name: "no at", in: "bob.example.com"},
		{name: "no local part", in: "@example.com"},
		{name: "no domain", in: "bob@"},
		{name: "two ats", in: "bob@x@example.com"},
		{name: "display name", in: "Bob <b@x.com>"},
		{name: "quoted display name", in: `"Bob" <b@x.com>`},
		{name: "angle brackets", in: "<b@x.com>"},
		{name: "comment", in: "b@x.com (Bob)"},
		{name: "quoted local part", in: `"bob smith"@x.com`},
		{name: "two addresses", in: "a@x.com, b@x.com"},
		{name: "inner space", in: "bob @x.com"},
		{name: "newline", in: "bob@x.com\nBcc: eve@x.com"},
		{name: "empty label", in: "bob@x..com"},
		{name: "leading dot domain", in: "bob@.x.com"},
		{name: "trailing dot domain", in: "bob@x.com."},
		{name: "leading hyphen label", in: "bob@-x.com"},
		{name: "trailing hyphen label", in: "bob@x-.com"},
		{name: "underscore in domain", in: "bob@x_y.com"},
		{name: "ip literal", in: "bob@[127.0.0.1]"},
		{name: "dot at end of local part", in: "bob.@x.com"},
		{name: "label too long", in: "bob@" + strings.Repeat("x", 64) + ".com"},
		{name: "local part too long", in: strings.Repeat("a", 65) + "@x.com"},
		{name: "too long", in: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 62)},
		{name: "invalid utf-8", in: "b\xffb@x.com"},
		{name: "phone number", in: "+14155550100"},
		{name: "invalid A-label", in: "bob@xn--zz.com"},
		{name: "symbol in local part", in: "bob☺@x.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := address.ParseEmail(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseEmail(%q) = %+v, want error", tt.in, got)
				}
				if !errcode.Is(err, errcode.BadRequest) {
					t.Fatalf("ParseEmail(%q) error code = %q, want %q", tt.in, errcode.Of(err), errcode.BadRequest)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseEmail(%q): %v", tt.in, err)
			}
			want := address.Address{Kind: address.Email, Value: tt.want}
			if got != want {
				t.Fatalf("ParseEmail(%q) = %+v, want %+v", tt.in, got, want)
			}
			if d := got.Domain(); d != tt.domain {
				t.Errorf("Domain() = %q, want %q", d, tt.domain)
			}
			if got.String() != tt.want {
				t.Errorf("String() = %q, want %q", got.String(), tt.want)
			}
		})
	}
}

// TestParseEmailLookalike: issue 11 item 7. Addresses that could pass for
// another person's address are refused with a message that says why; the
// four addresses of the issue first.
func TestParseEmailLookalike(t *testing.T) {
	tests := []struct {
		name string
		in   string
		why  string // part of the message
	}{
		{name: "zero-width space at the end", in: "zz4@contoso.com\u200b", why: "invisible character (U+200B)"},
		{name: "Cyrillic o in the domain", in: "zz4@c\u043entoso.com", why: "\"c\u043entoso\" mixes Cyrillic and Latin letters"},
		{name: "Cyrillic a in the local part", in: "p\u0430t@gmail.com", why: "\"p\u0430t\" mixes Cyrillic and Latin letters"},
		{name: "zero-width joiner", in: "pa\u200dt@gmail.com", why: "invisible character (U+200D)"},
		{name: "soft hyphen in the domain", in: "pat@gm\u00adail.com", why: "invisible character (U+00AD)"},
		{name: "word joiner", in: "pat@gmail\u2060.com", why: "invisible character (U+2060)"},
		{name: "byte order mark", in: "\ufeffpat@gmail.com", why: "invisible character (U+FEFF)"},
		{name: "right-to-left override", in: "pat@\u202egmail.com", why: "invisible character (U+202E)"},
		{name: "variation selector", in: "pat\ufe0f@gmail.com", why: "invisible character (U+FE0F)"},
		{name: "Hangul filler", in: "pat\u3164@gmail.com", why: "invisible character (U+3164)"},
		{name: "no-break space inside", in: "pat\u00a0x@gmail.com", why: "invisible character (U+00A0)"},
		{name: "control character", in: "pat\x01@gmail.com", why: "invisible character (U+0001)"},
		{name: "whole-script Cyrillic lookalike", in: "bob@\u0441\u043e\u0441\u043e.com", why: `looks like "coco"`},
		{name: "Latin alpha lookalike", in: "bob@p\u0251yp\u0251l.com", why: `looks like "paypal"`},
		{name: "Greek omicron in a Latin name", in: "bob@g\u03bfogle.com", why: "mixes Greek and Latin letters"},
		{name: "Cyrillic lookalike given as its A-label", in: "bob@xn--ntoso-3ye.com", why: "mixes Cyrillic and Latin letters"},
		{name: "Latin, Han and Cyrillic", in: "bob@abc\u6f22\u0434.cn", why: "mixes Cyrillic, Han and Latin letters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := address.ParseEmail(tt.in)
			if err == nil {
				t.Fatalf("ParseEmail(%q) = %+v, want error", tt.in, got)
			}
			if !errcode.Is(err, errcode.BadRequest) {
				t.Fatalf("ParseEmail(%q) error code = %q, want %q", tt.in, errcode.Of(err), errcode.BadRequest)
			}
			if msg := errcode.Message(err); !strings.Contains(msg, tt.why) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.why)
			}
			// Parse, which every caller that takes either kind uses, refuses it too.
			if _, err := address.Parse(tt.in, "US"); !errcode.Is(err, errcode.BadRequest) {
				t.Errorf("Parse(%q) error = %v, want badRequest", tt.in, err)
			}
		})
	}
}

func TestParsePhone(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		region string
		want   string // "" means invalid
	}{
		{name: "US national with parentheses", in: "(415) 555-0100", region: "US", want: "+14155550100"},
		{name: "US dashes", in: "415-555-0100", region: "US", want: "+14155550100"},
		{name: "US dots, lower-case region", in: "415.555.0100", region: "us", want: "+14155550100"},
		{name: "US with trunk 1", in: "1 (415) 555-0100", region: "US", want: "+14155550100"},
		{name: "US international from another region", in: "+1 415 555 0100", region: "DE", want: "+14155550100"},
		{name: "E.164 already", in: "+14155550100", region: "US", want: "+14155550100"},
		{name: "E.164 without region", in: "+14155550100", region: "", want: "+14155550100"},
		{name: "RFC 3966 tel URI", in: "tel:+1-415-555-0100", region: "", want: "+14155550100"},
		{name: "US vanity letters", in: "1-800-FLOWERS", region: "US", want: "+18003569377"},
		{name: "full-width digits", in: "４１５ ５５５ ０１００", region: "US", want: "+14155550100"},
		{name: "DE mobile national", in: "0151 23456789", region: "DE", want: "+4915123456789"},
		{name: "DE mobile international", in: "+49 151 23456789", region: "US", want: "+4915123456789"},
		{name: "DE with German IDD 00", in: "0049 151 23456789", region: "DE", want: "+4915123456789"},
		{name: "DE with slash", in: "0151/23456789", region: "DE", want: "+4915123456789"},
		{name: "GB London", in: "020 7946 0958", region: "GB", want: "+442079460958"},
		{name: "GB international with trunk zero", in: "+44 (0)20 7946 0958", region: "US", want: "+442079460958"},
		{name: "FR mobile", in: "06 12 34 56 78", region: "FR", want: "+33612345678"},
		{name: "CH Zurich", in: "044 668 18 00", region: "CH", want: "+41446681800"},
		{name: "IT keeps leading zero", in: "02 1234 5678", region: "IT", want: "+390212345678"},
		{name: "JP mobile", in: "090-1234-5678", region: "JP", want: "+819012345678"},
		{name: "AU mobile", in: "0412 345 678", region: "AU", want: "+61412345678"},
		{name: "BR mobile", in: "(11) 91234-5678", region: "BR", want: "+5511912345678"},
		{name: "IN mobile international", in: "+91 98765 43210", region: "", want: "+919876543210"},

		{name: "empty", in: "", region: "US"},
		{name: "blank", in: "  ", region: "US"},
		{name: "letters", in: "call me", region: "US"},
		{name: "too short", in: "12345", region: "US"},
		{name: "US local without area code", in: "555-0100", region: "US"},
		{name: "US invalid area code", in: "+1 (200) 555-0100", region: ""},
		{name: "national without region", in: "(415) 555-0100", region: ""},
		{name: "national with unknown region", in: "(415) 555-0100", region: "XX"},
		{name: "US IDD 00 is not international", in: "00 49 151 23456789", region: "US"},
		{name: "unknown country code", in: "+999 1234567", region: ""},
		{name: "DE too short", in: "0151 234", region: "DE"},
		{name: "extension", in: "+1 415 555 0100 ext. 12", region: "US"},
		{name: "email address", in: "bob@example.com", region: "US"},
		{name: "too long", in: "+1 415 555 0100" + strings.Repeat(" ", 60) + "1", region: "US"},
		{name: "invalid utf-8", in: "+1 415 555 0100\xff", region: "US"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := address.ParsePhone(tt.in, tt.region)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParsePhone(%q, %q) = %+v, want error", tt.in, tt.region, got)
				}
				if !errcode.Is(err, errcode.BadRequest) {
					t.Fatalf("ParsePhone(%q, %q) error code = %q, want %q", tt.in, tt.region, errcode.Of(err), errcode.BadRequest)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePhone(%q, %q): %v", tt.in, tt.region, err)
			}
			want := address.Address{Kind: address.Phone, Value: tt.want}
			if got != want {
				t.Fatalf("ParsePhone(%q, %q) = %+v, want %+v", tt.in, tt.region, got, want)
			}
			if d := got.Domain(); d != "" {
				t.Errorf("Domain() = %q, want empty for a phone number", d)
			}
		})
	}
}

func TestParsePhoneErrorMessage(t *testing.T) {
	_, err := address.ParsePhone("12345", "US")
	if got, want := errcode.Message(err), `"12345" is not a valid phone number`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	_, err = address.ParsePhone("+1 415 555 0100 x7", "US")
	if got := errcode.Message(err); !strings.Contains(got, "without an extension") {
		t.Errorf("message = %q, want it to mention the extension", got)
	}
	// A long paste is not echoed whole.
	_, err = address.ParsePhone(strings.Repeat("9", 500), "US")
	if got := errcode.Message(err); len(got) > 120 {
		t.Errorf("message is %d bytes long, want it shortened: %q", len(got), got)
	}
}

func TestParseEmailErrorMessage(t *testing.T) {
	_, err := address.ParseEmail("Bob <Bob@X.com>")
	if got, want := errcode.Message(err), `"Bob <Bob@X.com>" is not a valid email address: enter only the address, like bob@x.com`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	_, err = address.ParseEmail("")
	if got, want := errcode.Message(err), "an email address is required"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want address.Address
	}{
		{name: "email", in: "Bob@Example.com", want: address.Address{Kind: address.Email, Value: "bob@example.com"}},
		{name: "email with a full-width at sign", in: "bob＠example.com", want: address.Address{Kind: address.Email, Value: "bob@example.com"}},
		{name: "phone", in: "(415) 555-0100", want: address.Address{Kind: address.Phone, Value: "+14155550100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := address.Parse(tt.in, "US")
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
	if _, err := address.Parse("bob@", "US"); !errcode.Is(err, errcode.BadRequest) {
		t.Errorf("Parse(%q) error = %v, want badRequest", "bob@", err)
	}
}

func TestValidRegion(t *testing.T) {
	tests := []struct {
		region string
		want   bool
	}{
		{"US", true}, {"DE", true}, {"GB", true}, {"ch", true}, {" JP ", true},
		{"", false}, {"XX", false}, {"UK", false}, {"001", false}, {"USA", false},
	}
	for _, tt := range tests {
		if got := address.ValidRegion(tt.region); got != tt.want {
			t.Errorf("ValidRegion(%q) = %v, want %v", tt.region, got, tt.want)
		}
	}
}

func TestKindString(t *testing.T) {
	if got := address.Email.String(); got != "email" {
		t.Errorf("Email.String() = %q, want %q", got, "email")
	}
	if got := address.Phone.String(); got != "phone" {
		t.Errorf("Phone.String() = %q, want %q", got, "phone")
	}
	var zero address.Address
	if zero.Kind == address.Email || zero.Kind == address.Phone {
		t.Errorf("zero Address has kind %v, want neither email nor phone", zero.Kind)
	}
}
