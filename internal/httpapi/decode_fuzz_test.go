package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/errcode"
)

// fuzzBody has the shapes Parley's bodies use: scalars, pointers, nested
// structs, slices of structs, maps, raw JSON and an embedded struct.
type fuzzBody struct {
	fuzzEmbedded
	Name   *string  `json:"name"`
	N      int      `json:"n"`
	Tags   []string `json:"tags"`
	Nested struct {
		On    bool `json:"on"`
		Items []struct {
			X float64 `json:"x"`
		} `json:"items"`
	} `json:"nested"`
	Map map[string]struct {
		Y string `json:"y"`
	} `json:"map"`
	Raw     json.RawMessage `json:"raw"`
	Any     any             `json:"any"`
	Ignored string          `json:"-"`
}

type fuzzEmbedded struct {
	Email string `json:"email"`
}

// FuzzDecode: decode is the one reader of JSON bodies. Whatever the body,
// it never panics and refuses with badRequest; what it accepts is valid
// UTF-8 without lone surrogate escapes (nothing was replaced), decodes as
// encoding/json decodes it, and survives a round trip. Under /parley it
// is stricter exactly by unknown fields: accepted there means accepted
// under /v1.0 with no unknown field.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"name":"x","n":1,"tags":["a"],"nested":{"on":true,"items":[{"x":1.5}]},"map":{"k":{"y":"z"}},"raw":[1,{"a":2}],"any":null,"email":"a@b.c"}`,
		`{"NAME":"case-insensitive"}`,
		`{"@odata.type":"#x","user@odata.bind":"y"}`,
		`{"nested":{"items":[{"x":1,"extra":2}]}}`,
		`{"map":{"k":{"nope":1}}}`,
		`{"bogus":1}`,
		`{"name":"\ud83d\ude00"}`,
		`{"name":"\ud800"}`,
		`{"name":"\udc00\ud800"}`,
		`{"name":"\\ud800"}`,
		"{\"name\":\"\xff\"}",
		`{"n":"1"}`,
		`{} {}`,
		`[]`,
		``,
		`{"name":`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		v1, err1 := fuzzDecode(body, "/v1.0/x")
		pv, errP := fuzzDecode(body, "/parley/v1/x")
		for _, err := range []error{err1, errP} {
			if err != nil && (!errcode.Is(err, errcode.BadRequest) || errcode.Message(err) == "") {
				t.Fatalf("decode(%q) = %v, want badRequest with a message", body, err)
			}
		}
		if errP == nil {
			if err1 != nil {
				t.Fatalf("decode(%q) accepted under /parley, refused under /v1.0: %v", body, err1)
			}
			if !reflect.DeepEqual(pv, v1) {
				t.Fatalf("decode(%q) differs between /parley and /v1.0", body)
			}
		}
		if err1 != nil {
			return
		}
		field, _ := unknownField(bytes.TrimSpace(body), reflect.TypeOf(&fuzzBody{}), "")
		if (field == "") != (errP == nil) {
			t.Fatalf("decode(%q) under /parley: %v, but unknownField = %q", body, errP, field)
		}
		if !utf8.Valid(body) || !validEscapes(body) {
			t.Fatalf("decode accepted %q, which is not valid Unicode", body)
		}
		var want fuzzBody
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatalf("decode accepted %q, encoding/json refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(v1, want) {
			t.Fatalf("decode(%q) = %+v, encoding/json = %+v", body, v1, want)
		}
		out, err := json.Marshal(v1)
		if err != nil {
			t.Fatalf("marshal %+v: %v", v1, err)
		}
		again, err := fuzzDecode(out, "/parley/v1/x")
		if err != nil {
			t.Fatalf("decode refuses its own output %s: %v", out, err)
		}
		if !reflect.DeepEqual(again, normalise(t, v1)) {
			t.Fatalf("decode(%s) after a round trip = %+v, want %+v", out, again, v1)
		}
	})
}

// fuzzDecode decodes body as a request to path.
func fuzzDecode(body []byte, path string) (fuzzBody, error) {
	r := httptest.NewRequest("POST", path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	var v fuzzBody
	err := decode(r, &v)
	return v, err
}

// normalise is v as it reads back from its own encoding: RawMessage and
// interface values are re-encoded compactly by json.Marshal.
func normalise(t *testing.T, v fuzzBody) fuzzBody {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out fuzzBody
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return out
}

// TestDecodeRefusesInvalidUnicode: invalid UTF-8 and lone surrogates are a
// 400, not a silent U+FFFD; escaped pairs and escaped backslashes pass.
func TestDecodeRefusesInvalidUnicode(t *testing.T) {
	tests := []struct {
		name, body, want string // want "" means accepted
	}{
		{"plain", `{"name":"ok"}`, ""},
		{"escaped pair", `{"name":"\ud83d\ude00"}`, ""},
		{"escaped backslash then u", `{"name":"\\ud800"}`, ""},
		{"literal U+FFFD", `{"name":"` + "\uFFFD" + `"}`, ""},
		{"invalid byte", "{\"name\":\"\xff\"}", "not valid UTF-8"},
		{"truncated sequence", "{\"name\":\"\xe2\x82\"}", "not valid UTF-8"},
		{"overlong encoding", "{\"name\":\"\xc0\xaf\"}", "not valid UTF-8"},
		{"encoded surrogate", "{\"name\":\"\xed\xa0\x80\"}", "not valid UTF-8"},
		{"lone high surrogate", `{"name":"\ud800"}`, "lone surrogate"},
		{"lone low surrogate", `{"name":"\udc00"}`, "lone surrogate"},
		{"high then not low", `{"name":"\ud800\u0041"}`, "lone surrogate"},
		{"reversed pair", `{"name":"\udc00\ud800"}`, "lone surrogate"},
		{"surrogate in a key", `{"\ud800":1}`, "lone surrogate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := fuzzDecode([]byte(tt.body), "/v1.0/x")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("decode(%q): %v", tt.body, err)
				}
				if v.Name == nil || strings.Contains(*v.Name, "\uFFFD") != strings.Contains(tt.body, "\uFFFD") {
					t.Errorf("decode(%q) name = %v", tt.body, v.Name)
				}
				return
			}
			if !errcode.Is(err, errcode.BadRequest) || !strings.Contains(errcode.Message(err), tt.want) {
				t.Fatalf("decode(%q) = %v, want badRequest saying %q", tt.body, err, tt.want)
			}
		})
	}
}

// FuzzDecodeOnePass: decode's one pass over the whole body answers as
// decodeStream alone does (the same error, or the same value), for every
// body and both API surfaces, a body cut short by a read error included.
func FuzzDecodeOnePass(f *testing.F) {
	for _, seed := range []string{
		`{"name":"x","n":1,"tags":["a"],"raw":[1,{"a":2}],"email":"a@b.c"}`, `{"bogus":1}`, `{"n":"1"}`, `{} {}`, `{}  `,
		`[]`, ``, ` `, `{"name":`, "{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"nested":{"items":[{"x":1,"extra":2}]}}`, `{"n":1}x`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, cut bool) {
		for _, path := range []string{"/v1.0/x", "/parley/v1/x"} {
			reader := func() io.Reader {
				if cut {
					return io.MultiReader(bytes.NewReader(body), errReader{errors.New("connection reset")})
				}
				return bytes.NewReader(body)
			}
			r := httptest.NewRequest("POST", path, reader())
			var fast fuzzBody
			errFast := decode(r, &fast)
			var slow fuzzBody
			errSlow := decodeStream(r, reader(), &slow)
			if (errFast == nil) != (errSlow == nil) || (errFast != nil && (errcode.Of(errFast) != errcode.Of(errSlow) || errcode.Message(errFast) != errcode.Message(errSlow))) {
				t.Fatalf("decode(%q) at %s = %v, decodeStream = %v", body, path, errFast, errSlow)
			}
			if errFast == nil && !reflect.DeepEqual(fast, slow) {
				t.Fatalf("decode(%q) at %s = %+v, decodeStream = %+v", body, path, fast, slow)
			}
		}
	})
}

// FuzzDecodeMessage: a message body decodes (messageIn.decodeFast, else
// encoding/json) as decodeStream alone decodes it: the same error or the
// same value, at both API surfaces; what decodeFast takes, encoding/json
// decodes to the same value.
func FuzzDecodeMessage(f *testing.F) {
	for _, seed := range []string{
		`{"body":{"contentType":"text","content":"hello"}}`, ` { "body" : { "content" : "hi" , "contentType" : "html" } } `,
		`{"body":{}}`, `{"body":{"content":"a","content":"b"}}`, `{"body":{"content":"a\nb"}}`, `{"Body":{"content":"x"}}`,
		`{"body":null}`, `{"body":{"content":null}}`, `{"body":{"content":1}}`, `{"body":{"content":"x"},}`, `{"body":{"content":"x"}}x`,
		`{"body":{"content":"x"}} {}`, `{"body":{"content":"x"},"mentions":[]}`, "{\"body\":{\"content\":\"\t\"}}", `{"body":{"content":"é€😀"}}`,
		`{"body":{"CONTENT":"x"}}`, `{"body":{"content":"x"`, `{"body"}`, `{"body":{"content":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if utf8.Valid(body) {
			var fast messageIn
			if fast.decodeFast(body) {
				var std messageIn
				if err := json.Unmarshal(body, &std); err != nil || !reflect.DeepEqual(fast, std) {
					t.Fatalf("decodeFast(%q) = %+v, encoding/json = %+v, %v", body, fast.Body, std.Body, err)
				}
			} else if !reflect.DeepEqual(fast, messageIn{}) {
				t.Fatalf("decodeFast(%q) refused but changed the value: %+v", body, fast)
			}
		}
		for _, path := range []string{"/v1.0/x", "/parley/v1/x"} {
			var got messageIn
			errGot := decode(httptest.NewRequest("POST", path, bytes.NewReader(body)), &got)
			var want messageIn
			errWant := decodeStream(httptest.NewRequest("POST", path, nil), bytes.NewReader(body), &want)
			if (errGot == nil) != (errWant == nil) || (errGot != nil && errcode.Message(errGot) != errcode.Message(errWant)) {
				t.Fatalf("decode(%q) at %s = %v, decodeStream = %v", body, path, errGot, errWant)
			}
			if errGot == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("decode(%q) at %s = %+v, decodeStream = %+v", body, path, got, want)
			}
		}
	})
}
