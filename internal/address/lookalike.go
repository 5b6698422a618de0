package address

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
)

// Issue 11 item 7: an address that looks like another person's address is
// refused, so nobody can sign up, be invited or be found as
// "pаt@gmail.com" (Cyrillic а) next to the real pat@gmail.com. The rules
// follow Unicode TR39 ("Unicode Security Mechanisms") and use its data
// through maintained tables, never our own:
//
//   - no invisible characters anywhere (invisible: default-ignorable code
//     points, format and control characters, spaces other than U+0020);
//   - each part (the local part, each domain label) is "highly restrictive"
//     (TR39 docs/rules.md §5.2): one script, or Latin with Han and Japanese kana, Han
//     with Bopomofo, or Han with Hangul; Common and Inherited characters
//     (digits, punctuation, combining marks) go with any script;
//   - a part that is not ASCII must not be a lookalike of an ASCII one:
//     its TR39 confusable skeleton must not be all ASCII ("раураl" in
//     Cyrillic, "pɑypɑl" with Latin alpha, whose skeleton is "paypal").
//
// ASCII parts are not checked: ASCII-only confusables ("rn" and "m") are
// what plain addresses have always had.

// invisible returns the first character of s that a reader cannot see:
// a default-ignorable code point (zero-width space and joiners, soft
// hyphen, variation selectors, Hangul fillers, bidi controls, the BOM),
// any other format or control character, and separators other than the
// ASCII space (which ParseEmail refuses on its own).
func invisible(s string) (rune, bool) {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if r < 0x20 || r == 0x7f {
				return r, true
			}
			continue
		}
		if unicode.In(r, unicode.Cc, unicode.Cf, unicode.Z,
			unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) {
			return r, true
		}
	}
	return 0, false
}

// lookalike returns why an address whose normalised local part is local
// and whose ASCII domain is domain could pass for another address, or "".
func lookalike(local, domain string) string {
	if why := lookalikePart(local); why != "" {
		return why
	}
	if !strings.Contains(domain, "xn--") {
		return ""
	}
	u, err := domainProfile.ToUnicode(domain)
	if err != nil {
		return "its domain is not a valid internationalised domain name"
	}
	for label := range strings.SplitSeq(u, ".") {
		if why := lookalikePart(label); why != "" {
			return why
		}
	}
	return ""
}

// lookalikePart applies the script and skeleton rules to one part.
func lookalikePart(part string) string {
	if isASCII(part) {
		return ""
	}
	if scripts := scriptsOf(part); !highlyRestrictive(scripts) {
		return fmt.Sprintf("%s mixes %s letters, so it could pass for another address", strconv.Quote(part), joinAnd(scripts))
	}
	if sk := confusables.Skeleton(part); isASCII(sk) {
		return fmt.Sprintf("%s looks like %s, so it could pass for another address", strconv.Quote(part), strconv.Quote(sk))
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// scriptNames lists the Unicode scripts Go knows, Latin first (the one
// most characters belong to), for a stable, quick lookup.
var scriptNames = func() []string {
	names := make([]string, 0, len(unicode.Scripts))
	for name := range unicode.Scripts {
		if name != "Latin" && name != "Common" && name != "Inherited" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return append([]string{"Latin"}, names...)
}()

// scriptsOf returns the sorted scripts of the characters of s, leaving out
// Common and Inherited (shared by every script) and unassigned characters.
func scriptsOf(s string) []string {
	var out []string
	for _, r := range s {
		if r < utf8.RuneSelf && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			continue
		}
		if unicode.In(r, unicode.Common, unicode.Inherited) {
			continue
		}
		for _, name := range scriptNames {
			if unicode.Is(unicode.Scripts[name], r) {
				if !slices.Contains(out, name) {
					out = append(out, name)
				}
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// restrictiveSets are TR39 docs/rules.md §5.2's allowed combinations of scripts in one
// identifier besides a single script.
var restrictiveSets = [][]string{
	{"Han", "Hiragana", "Katakana", "Latin"},
	{"Bopomofo", "Han", "Latin"},
	{"Han", "Hangul", "Latin"},
}

// highlyRestrictive reports whether scripts (sorted, without Common and
// Inherited) meet TR39's "highly restrictive" level.
func highlyRestrictive(scripts []string) bool {
	if len(scripts) <= 1 {
		return true
	}
	for _, set := range restrictiveSets {
		all := true
		for _, s := range scripts {
			if !slices.Contains(set, s) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func joinAnd(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// runeHex formats r as Unicode writes it after "U+": at least four hex digits.
func runeHex(r rune) string { return fmt.Sprintf("%04X", r) }
