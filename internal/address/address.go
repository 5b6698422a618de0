// Package address parses the addresses people type to find or invite
// someone: an email address or a phone number (docs/rules.md §6). It normalises them
// to the one form that is stored and compared: a lower-case email address
// whose domain is in ASCII (IDNA A-labels, "xn--…"), or a phone number in
// E.164 (+14155550100). It refuses addresses that could pass for another
// one (invisible characters, mixed scripts, whole-script lookalikes; see
// lookalike.go and docs/decisions.md "Input hardening").
//
// It is a leaf: it imports only errcode, the phone-number metadata and the
// Unicode libraries (x/text, x/net/idna, the TR39 confusables table), and
// any package may import it (identity, invite, httpapi, config).
package address

import (
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/width"

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
// lower case with its domain in ASCII (an internationalised domain as its
// punycode A-label), or a phone number in E.164. Two addresses are the same
// address exactly when they are equal (==).
type Address struct {
	Kind  Kind
	Value string
}

// String returns the normalised value.
func (a Address) String() string { return a.Value }

// Domain returns the lower-case ASCII domain of an email address (the part
// after the @, an internationalised domain as its A-label), or "" for a
// phone number.
func (a Address) Domain() string {
	if a.Kind != Email {
		return ""
	}
	if i := strings.LastIndexByte(a.Value, '@'); i >= 0 {
		return a.Value[i+1:]
	}
	return ""
}

// Limits from RFC 5321 docs/rules.md §4.5.3.1 (a path is at most 256 octets including the
// angle brackets, so an address is at most 254).
const (
	maxEmailLen = 254
	maxLocalLen = 64
	maxLabelLen = 63
	// maxPhoneInput bounds what is handed to the phone-number parser; a
	// formatted number with spaces, dashes and a country code is far shorter.
	maxPhoneInput = 64
	// maxEmailInput bounds what is normalised at all: full-width letters
	// take three bytes each, so an address typed in them is up to three
	// times longer than the address it stands for.
	maxEmailInput = 4 * maxEmailLen
	// maxEcho bounds how much of the input an error message repeats back.
	maxEcho = 64
)

// domainProfile maps a domain as typed to its ASCII form as UTS #46
// processing for lookup does (case, width and compatibility mappings, NFC,
// IDNA2008 validity, the Bidi rule, DNS lengths), without the transitional
// mappings (faß.de stays faß.de, as browsers now resolve it). Hyphens in
// positions 3 and 4 of an ASCII label are allowed ("r3--sn-x.example"),
// as browsers allow them; leading and trailing hyphens are refused by
// validDomain.
var domainProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true),
	idna.Transitional(false), idna.CheckHyphens(false))

// Parse parses s as an email address when it contains an @, and as a phone
// number otherwise (docs/rules.md §6: the person types either). defaultRegion is the region
// for phone numbers typed without a country code.
//
// Errors have code badRequest.
func Parse(s, defaultRegion string) (Address, error) {
	// A full-width at sign (U+FF20) is an at sign typed in full-width mode.
	if strings.ContainsAny(s, "@\uFF20") {
		return ParseEmail(s)
	}
	return ParsePhone(s, defaultRegion)
}

// ParseEmail parses a bare email address such as "Bob@Example.com " and
// returns it trimmed and in lower case ("bob@example.com"). Display-name forms
// ("Bob <bob@example.com>"), angle brackets, comments, quoted local parts and
// domain literals are refused: docs/rules.md §6 matches the exact address the person typed.
//
// Letters typed in full width ("ｂｏｂ＠ｃｏｎｔｏｓｏ.com") are the same
// letters and are mapped to their usual width first (PRECIS width mapping,
// RFC 8265), so they name the plain address. The local part is then the
// PRECIS UsernameCaseMapped form of what was typed (NFC, lower case, no
// spaces, symbols or controls beyond ASCII's); the domain is mapped by
// UTS #46 and kept as its ASCII A-label ("bücher.de" is "xn--bcher-kva.de"),
// which is how it is stored, compared with organisations' domains and shown.
// An address that could pass for another is refused (see lookalike).
//
// Errors have code badRequest.
func ParseEmail(s string) (Address, error) {
	invalid := func(why string) (Address, error) {
		return Address{}, errcode.New(errcode.BadRequest, "%s is not a valid email address%s", echo(s), why)
	}
	// Checked before anything else, which would turn invalid bytes into U+FFFD.
	if !utf8.ValidString(s) {
		return invalid(": it is not valid UTF-8")
	}
	v := strings.TrimSpace(s)
	if v == "" {
		return Address{}, errcode.New(errcode.BadRequest, "an email address is required")
	}
	if len(v) > maxEmailInput {
		return invalid("")
	}
	// Before any mapping: IDNA drops some invisible characters (U+200B,
	// U+00AD) silently, and what the person typed is what they would see.
	if r, ok := invisible(v); ok {
		return invalid(": it contains an invisible character (U+" + runeHex(r) + ")")
	}
	v = strings.ToLower(width.Fold.String(v))
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
	local, err := precis.UsernameCaseMapped.String(v[:at])
	if err != nil {
		return invalid(": the part before the @ has a character an address may not have")
	}
	domain, err := domainProfile.ToASCII(v[at+1:])
	if err != nil || !validDomain(domain) {
		return invalid("")
	}
	if why := lookalike(local, domain); why != "" {
		return invalid(": " + why)
	}
	v = local + "@" + domain
	if len(local) > maxLocalLen || len(v) > maxEmailLen {
		return invalid("")
	}
	// The normalised address must still be a bare address (PRECIS and IDNA
	// only map letters, so this holds; checking keeps ParseEmail a fixed point).
	if parsed, err := mail.ParseAddress(v); err != nil || parsed.Address != v {
		return invalid("")
	}
	return Address{Kind: Email, Value: v}, nil
}

// validDomain reports whether domain, in ASCII, is one or more dot-separated
// labels of letters, digits and inner hyphens. A dot-free domain
// ("localhost") is allowed for self-hosted installations; a trailing dot,
// empty labels, IP literals and underscores are not. Internationalised
// labels arrive here as their A-labels.
func validDomain(domain string) bool {
	if domain == "" {
		return false
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || len(label) > maxLabelLen ||
			label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			switch r := label[i]; {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
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
