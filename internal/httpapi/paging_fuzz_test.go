package httpapi

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
)

// FuzzSkipToken: a $skiptoken is outside input (a client may send any);
// skipToken, idSkipToken and timeIDSkipToken never panic, refuse with
// badRequest, and
// what they accept is what makeSkipToken makes of it again. From the other
// side, any keys a list puts in a token (a, b, micros) come back out.
func FuzzSkipToken(f *testing.F) {
	const id = "0190e1e2-aaaa-7bbb-8ccc-000000000001"
	f.Add(makeSkipToken("1700000000000000", id), 2, "1700000000000000", id, int64(1_700_000_000_000_000))
	f.Add(makeSkipToken("x"), 1, "", "", int64(-1))
	f.Add(makeSkipToken(), 0, "ü\"\\\u2028", "\x00", int64(1<<62))
	f.Add("bnVsbA", 0, "", "", int64(0))  // null
	f.Add("WyJhIl0", 2, "", "", int64(0)) // ["a"]
	f.Add("!!!", 1, "", "", int64(0))
	f.Add("W10", 0, "", "", int64(0)) // []
	f.Add("WyLvv70iXQ", 1, "", "", int64(0))
	f.Fuzz(func(t *testing.T, tok string, n int, a, b string, micros int64) {
		madeRoundTrip(t, a, b, micros)
		n = int(uint(n) % 4)
		r := httptest.NewRequest("GET", "/v1.0/users?"+url.Values{"$skiptoken": {tok}}.Encode(), nil)
		keys, err := skipToken(r, n)
		if err != nil {
			if !errcode.Is(err, errcode.BadRequest) {
				t.Fatalf("skipToken(%q, %d) error code %q, want badRequest", tok, n, errcode.Of(err))
			}
		} else if keys != nil {
			if len(keys) != n {
				t.Fatalf("skipToken(%q, %d) = %d keys", tok, n, len(keys))
			}
			r2 := httptest.NewRequest("GET", "/v1.0/users?"+url.Values{"$skiptoken": {makeSkipToken(keys...)}}.Encode(), nil)
			again, err := skipToken(r2, n)
			if err != nil || !slices.Equal(again, keys) {
				t.Fatalf("skipToken(%q) = %q, re-made and read again = %q, %v", tok, keys, again, err)
			}
		}
		if n, ok, err := idSkipToken(r); err != nil {
			if !errcode.Is(err, errcode.BadRequest) {
				t.Fatalf("idSkipToken(%q) error code %q, want badRequest", tok, errcode.Of(err))
			}
		} else if ok && n <= 0 {
			t.Fatalf("idSkipToken(%q) accepted id %d", tok, n)
		}
		at, id, ok, err := timeIDSkipToken(r)
		if err != nil {
			if !errcode.Is(err, errcode.BadRequest) {
				t.Fatalf("timeIDSkipToken(%q) error code %q, want badRequest", tok, errcode.Of(err))
			}
			return
		}
		if !ok {
			return
		}
		if id == "" {
			t.Fatalf("timeIDSkipToken(%q) accepted an empty id", tok)
		}
		// The time survives the trip through the token at microsecond precision.
		back, err := parseTimeKey(timeKey(at))
		if err != nil || !back.Equal(at) {
			t.Fatalf("timeIDSkipToken(%q) time %v, through timeKey %v, %v", tok, at, back, err)
		}
	})
}

// madeRoundTrip checks that keys a list puts in a token come back out.
func madeRoundTrip(t *testing.T, a, b string, micros int64) {
	t.Helper()
	if !utf8.ValidString(a) || !utf8.ValidString(b) {
		return // keys are ids and numbers the server made, always UTF-8
	}
	r := httptest.NewRequest("GET", "/v1.0/users?"+url.Values{"$skiptoken": {makeSkipToken(a, b)}}.Encode(), nil)
	keys, err := skipToken(r, 2)
	if err != nil || !slices.Equal(keys, []string{a, b}) {
		t.Fatalf("makeSkipToken(%q, %q) read back as %q, %v", a, b, keys, err)
	}
	if micros > 0 {
		r := httptest.NewRequest("GET", "/v1.0/users?"+url.Values{"$skiptoken": {makeSkipToken(idKey(micros))}}.Encode(), nil)
		if id, ok, err := idSkipToken(r); err != nil || !ok || id != micros {
			t.Fatalf("makeSkipToken(idKey(%d)) read back as %d, %v, %v", micros, id, ok, err)
		}
	}
	at := time.UnixMicro(micros).UTC()
	if back, err := parseTimeKey(timeKey(at)); err != nil || !back.Equal(at) {
		t.Fatalf("timeKey(%v) read back as %v, %v", at, back, err)
	}
}
