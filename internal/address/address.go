// Package address parses the addresses people type to find or invite
// someone: an email address or a phone number (SPEC §6). It normalises them
// to the one form that is stored and compared: a lower-case email address, or
// a phone number in E.164 (+14155550100).
//
// It is a leaf: it imports only errcode and the phone-number metadata, and any
// package may import it (identity, invite, httpapi, config).
package address

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/parleychat/parley/internal/errcode"
)

// Kind says what sort of address an Address is.
type Kind uint8

// The kinds of address. The zero Kind is not a valid kind, so a zero Address
// is never mistaken for an email address.
const (
	Email Kind = iota + 1
	Phone
)

// String returns "email" or "phone".
func (k Kind) String() string {
	switch k {
	case Email:
		return "email"
	case Phone:
		return "phone"
	}
	return "unknown"
}

// Address is a parsed, normalised address. Value is an email address in
// lower case, or a phone number in E.164. Two addresses are the same address
// exactly when they are equal (==).
type Address struct {
	Kind  Kind
	Value string
}

// String returns the normalised value.
func (a Address) String() string { return a.Value }

// Domain returns the lower-case domain of an email address (the part after
// the @), or "" for a phone number.
func (a Address) Domain() string {
	if a.Kind != Email {
		return ""
	}
	if i := strings.LastIndexByte(a.Value, '@'); i >= 0 {
		return a.Value[i+1:]
	}
	return ""
}

// Limits from RFC 5321 §4.5.3.1 (a path is at most 256 octets including the
// angle brackets, so an address is at most 254).
const (
	maxEmailLen = 254
	maxLocalLen = 64
	maxLabelLen = 63
	// maxPhoneInput bounds what is handed to the phone-number parser; a
	// formatted number with spaces, dashes and a country code is far shorter.
	maxPhoneInput = 64
	// maxEcho bounds how much of the input an error message repeats back.
	maxEcho = 64
)

// Parse parses s as an email address when it contains an @, and as a phone
// number otherwise (§6: the person types either). defaultRegion is the region
// for phone numbers typed without a country code.
//
// Errors have code badRequest.
func Parse(s, defaultRegion string) (Address, error) {
	if strings.Contains(s, "@") {
		return ParseEmail(s)
	}
	return ParsePhone(s, defaultRegion)
}

// ParseEmail parses a bare email address such as "Bob@Example.com " and
// returns it trimmed and in lower case ("bob@example.com"). Display-name forms
// ("Bob <bob@example.com>"), angle brackets, comments, quoted local parts and
// domain literals are refused: §6 matches the exact address the person typed.
//
// Errors have code badRequest.
func ParseEmail(s string) (Address, error) {
	invalid := func(why string) (Address, error) {
		return Address{}, errcode.New(errcode.BadRequest, "%s is not a valid email address%s", echo(s), why)
	}
	// Checked before ToLower, which would turn invalid bytes into U+FFFD.
	if !utf8.ValidString(s) {
		return invalid("")
	}
	v := strings.ToLower(strings.TrimSpace(s))
	if v == "" {
		return Address{}, errcode.New(errcode.BadRequest, "an email address is required")
	}
	if len(v) > maxEmailLen {
		return invalid("")
	}
	parsed, err := mail.ParseAddress(v)
	if err != nil {
		return invalid("")
	}
	// ParseAddress also accepts "Name <addr>", "<addr>", "addr (comment)" and
	// quoted local parts; it reports the bare address, so anything but the
	// bare address as typed differs from it.
	if parsed.Name != "" || parsed.Address != v {
		if strings.ContainsAny(v, "<>") {
			return invalid(": enter only the address, like " + parsed.Address)
		}
		return invalid("")
	}
	at := strings.LastIndexByte(v, '@')
	local, domain := v[:at], v[at+1:]
	if len(local) > maxLocalLen || !validDomain(domain) {
		return invalid("")
	}
	return Address{Kind: Email, Value: v}, nil
}

// validDomain reports whether domain is one or more dot-separated labels of
// letters, digits and inner hyphens. A dot-free domain ("localhost") is
// allowed for self-hosted installations; a trailing dot, empty labels, IP
// literals and underscores are not. Non-ASCII letters are allowed so that
// internationalised domains typed in Unicode are accepted as typed.
func validDomain(domain string) bool {
	if domain == "" {
		return false
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || len(label) > maxLabelLen ||
			label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			case r >= utf8.RuneSelf && r != utf8.RuneError:
			default:
				return false
			}
		}
	}
	return true
}

// ParsePhone parses a phone number in any common format and returns it in
// E.164. A number without a country code ("(415) 555-0100", "0151 23456789")
// is read in defaultRegion, a CLDR region code such as "US" or "DE" (see
// ValidRegion); a number with one ("+49 151 23456789", "0049…" from Germany)
// ignores it. The number must be valid for its region (right length and
// prefix, not merely possible). Extensions are refused: E.164 cannot carry
// them, and dropping one silently would invite the wrong person.
//
// Errors have code badRequest.
func ParsePhone(s, defaultRegion string) (Address, error) {
	v := strings.TrimSpace(s)
	if v == "" {
		return Address{}, errcode.New(errcode.BadRequest, "a phone number is required")
	}
	invalid := func() (Address, error) {
		return Address{}, errcode.New(errcode.BadRequest, "%s is not a valid phone number", echo(s))
	}
	if len(v) > maxPhoneInput || !utf8.ValidString(v) {
		return invalid()
	}
	num, err := phonenumbers.Parse(v, strings.ToUpper(strings.TrimSpace(defaultRegion)))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return invalid()
	}
	if num.GetExtension() != "" {
		return Address{}, errcode.New(errcode.BadRequest,
			"%s is not a valid phone number: enter it without an extension", echo(s))
	}
	return Address{Kind: Phone, Value: phonenumbers.Format(num, phonenumbers.E164)}, nil
}

// ValidRegion reports whether region is a region code the phone-number
// metadata knows, such as "US", "DE" or "GB" (case-insensitive). Config uses
// it to check --phone-region.
func ValidRegion(region string) bool {
	r := strings.ToUpper(strings.TrimSpace(region))
	return r != "" && phonenumbers.GetSupportedRegions()[r]
}

// echo quotes user input for an error message, shortened so a long paste
// does not become a long error.
func echo(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxEcho {
		s = string([]rune(s)[:maxEcho]) + "…"
	}
	return strconv.Quote(s)
}
