package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/identity"
)

// handlerFunc is a handler that returns its error for the one error writer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (h handlerFunc) with(a *API) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.WriteError(w, r, err)
		}
	})
}

type ctxKey int

const (
	userKey ctxKey = iota
	requestInfoKey
)

// statusOf maps a code to its HTTP status (API.md "Error codes").
func statusOf(code errcode.Code) int {
	switch code {
	case errcode.BadRequest:
		return http.StatusBadRequest
	case errcode.Unauthenticated:
		return http.StatusUnauthorized
	case errcode.NotFound:
		return http.StatusNotFound
	case errcode.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	case errcode.Conflict, errcode.DomainTaken, errcode.PolicyInUse:
		return http.StatusConflict
	case errcode.PayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case errcode.RateLimited:
		return http.StatusTooManyRequests
	case errcode.ServiceNotAvailable:
		return http.StatusServiceUnavailable
	case errcode.BadGateway:
		return http.StatusBadGateway
	case errcode.Forbidden, errcode.ForbiddenByPolicy, errcode.RecipientUnavailable, errcode.MessageRequestLimitReached,
		errcode.ChatReadOnly, errcode.ExternalMemberNotAllowed:
		return http.StatusForbidden
	default:
		return http.StatusInternalServerError
	}
}

// WriteError writes err in the API's error shape. Internal errors are
// logged with detail and shown as a generic message.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(a.Log, w, r, err)
}

// ErrorWriter returns the function that writes errors in the API's shape,
// logging internal ones to log, for a handler mounted on the API but built
// before it (the WebSocket endpoint).
func ErrorWriter(log *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) { writeError(log, w, r, err) }
}

func writeError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = errcode.New(errcode.PayloadTooLarge, "The request body is larger than %d bytes.", mbe.Limit)
	}
	code := errcode.Of(err)
	status := statusOf(code)
	if code == errcode.Internal {
		if errors.Is(err, context.Canceled) {
			return // the client went away; nobody reads the answer
		}
		requestLogger(log, r).Error("request failed", "err", err)
	}
	if d := errcode.RetryAfterOf(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
	if code == errcode.Unauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
	}
	writeJSON(w, status, graph.Error{Error: graph.ErrorBody{Code: string(code), Message: errcode.Message(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":{"code":"internalServerError","message":"encode response"}}`, http.StatusInternalServerError)
		return
	}
	writeJSONBytes(w, status, b)
}

// Header values every answer shares (never modified in place: Header.Set
// and Add replace or grow a copy).
var (
	nosniff         = []string{"nosniff"}
	jsonContentType = []string{"application/json; charset=utf-8"}
)

// serverBuffer is what net/http buffers of an answer before it sends the
// header: an answer no longer than this, written once by a handler that
// then returns, gets its Content-Length from net/http, without allocating.
const serverBuffer = 2048

// writeJSONBytes writes b, encoded JSON, as the answer.
func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	if len(b) > serverBuffer {
		h["Content-Length"] = []string{strconv.Itoa(len(b))} // not chunked
	}
	w.WriteHeader(status)
	_, _ = w.Write(b) // a failed write means the client left; nothing to do
}

// writeMessage writes m as viewer sees it, encoded in a pooled buffer:
// net/http copies the answer, so the buffer is free once written.
func writeMessage(w http.ResponseWriter, status int, m *chat.Message, viewer *identity.User) {
	gm := graph.NewMessage(m, viewer)
	buf := bodyBuffers.Get().(*[]byte)
	*buf = graph.AppendMessage((*buf)[:0], &gm)
	writeJSONBytes(w, status, *buf)
	putBodyBuffer(buf)
}

func notFoundPath(r *http.Request) error {
	return errcode.New(errcode.NotFound, "No resource at %s %s.", r.Method, r.URL.Path)
}

// decode reads a JSON body into v. Malformed JSON, wrong types, trailing
// data and a non-JSON content type are badRequest. Unknown fields are
// allowed in Graph's bodies under /v1.0 (Graph clients send extras and
// @odata annotations), and refused in Parley's own bodies under /parley
// (docs/rules.md §10: a misspelt setting must not answer 200 and change nothing),
// except for annotations, which are accepted everywhere (odataKey).
//
// The body is read whole into a pooled buffer and decoded in one pass;
// a body that pass refuses is read again by decodeStream, which says what
// is wrong with it, so every answer is as if only decodeStream ran.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errcode.New(errcode.BadRequest, "The body must be JSON (Content-Type: application/json).")
		}
	}
	if r.Body == nil {
		return decodeStream(r, http.NoBody, v)
	}
	buf := bodyBuffers.Get().(*[]byte)
	defer putBodyBuffer(buf)
	body, err := readBody((*buf)[:0], r.Body)
	*buf = body
	if err == nil && utf8.Valid(body) && validEscapes(body) && unmarshal(body, v) == nil &&
		(!strings.HasPrefix(r.URL.Path, "/parley/") || !hasUnknownField(body, v)) {
		return nil
	}
	// Refused (or the read failed): the same bytes, and the same read
	// error after them, through the stream decoder for its answer.
	var rest io.Reader = bytes.NewReader(body)
	if err != nil {
		rest = io.MultiReader(rest, errReader{err})
	}
	return decodeStream(r, rest, v)
}

// fastDecoder is a body type that decodes its common shape itself, far
// cheaper than reflection; decodeFast reports false, leaving the value as
// it was, for anything it does not take, and encoding/json decodes that.
// It must answer as encoding/json would for what it takes.
type fastDecoder interface {
	decodeFast(body []byte) bool
}

// unmarshal is json.Unmarshal, by v's own decodeFast when it takes body.
func unmarshal(body []byte, v any) error {
	if f, ok := v.(fastDecoder); ok && f.decodeFast(body) {
		return nil
	}
	return json.Unmarshal(body, v)
}

// jsonScan reads the simplest JSON texts a byte at a time (decodeFast).
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next consumes c, after white space, if it comes next.
func (s *jsonScan) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *jsonScan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// plainString reads a string without escapes and returns its bytes; false
// for anything else (an escape, a control character, another type).
func (s *jsonScan) plainString() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// hasUnknownField reports whether body has a key v's type has no field for.
func hasUnknownField(body []byte, v any) bool {
	field, _ := unknownField(body, reflect.TypeOf(v), "")
	return field != ""
}

// readBody appends all of body to dst.
func readBody(dst []byte, body io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := body.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// bodyBuffers hold request bodies while decode reads them, and messages
// while writeMessage writes them.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// putBodyBuffer returns a body buffer to the pool unless a large body
// grew it.
func putBodyBuffer(b *[]byte) {
	if cap(*b) > 64<<10 {
		return
	}
	*b = (*b)[:0]
	bodyBuffers.Put(b)
}

// decodeStream is decode reading body as a stream: it finds what is wrong
// with a body and says so.
func decodeStream(r *http.Request, body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		var mbe *http.MaxBytesError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.Is(err, io.EOF):
			return errcode.New(errcode.BadRequest, "The request body is empty; a JSON object is required.")
		case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
			return errcode.New(errcode.BadRequest, "The request body is not valid JSON.")
		default:
			return errcode.New(errcode.BadRequest, "The request body is not a valid JSON object.")
		}
	}
	// Issue 11: encoding/json turns invalid UTF-8 and lone surrogate
	// escapes into U+FFFD without a word; a body that is not valid Unicode
	// is refused instead, so what is stored is what was sent.
	if !utf8.Valid(raw) {
		return errcode.New(errcode.BadRequest, "The request body is not valid UTF-8.")
	}
	if !validEscapes(raw) {
		return errcode.New(errcode.BadRequest, "The request body has a \\u escape that is not a Unicode character (a lone surrogate).")
	}
	if dec.More() {
		return errcode.New(errcode.BadRequest, "The request body has data after the JSON object.")
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errcode.New(errcode.BadRequest, "The request body has data after the JSON object.")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errcode.New(errcode.BadRequest, "Field %q must be of type %s.", typeErr.Field, jsonType(typeErr.Type.Kind().String()))
		}
		return errcode.New(errcode.BadRequest, "The request body is not a valid JSON object.")
	}
	if strings.HasPrefix(r.URL.Path, "/parley/") {
		if field, known := unknownField(raw, reflect.TypeOf(v), ""); field != "" {
			if len(known) == 0 {
				return errcode.New(errcode.BadRequest, "Unknown field %q: this object takes no fields.", field)
			}
			return errcode.New(errcode.BadRequest, "Unknown field %q: the fields here are %s.", field, strings.Join(known, ", "))
		}
	}
	return nil
}

// validEscapes reports whether every \u escape in raw, a JSON text
// encoding/json has read, is a Unicode scalar value: a surrogate escape
// must be a high one followed by a low one. Outside strings a JSON text
// has no backslashes, so no string tracking is needed.
func validEscapes(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r, ok := hex4(raw, i+1)
		if !ok {
			return false
		}
		i += 4
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return false // a low surrogate without a high one
		case 0xD800 <= r && r <= 0xDBFF:
			if i+6 >= len(raw) || raw[i+1] != '\\' || raw[i+2] != 'u' {
				return false
			}
			lo, ok := hex4(raw, i+3)
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return false
			}
			i += 6
		}
	}
	return true
}

// hex4 reads the four hex digits of a \u escape at raw[i:].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 16)
	return rune(n), err == nil
}

// validForm reports whether every key and value of a parsed form (or
// query) is valid UTF-8: url.ParseQuery decodes %FF into a raw byte and
// says nothing.
func validForm(v url.Values) bool {
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return false
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}

// odataKey reports whether a JSON key is an OData annotation
// ("@odata.type", "user@odata.bind"), accepted in every body.
func odataKey(k string) bool {
	return strings.HasPrefix(k, "@odata") || strings.Contains(k, "@odata.")
}

// unknownField returns the dotted path of the first key in raw that type t
// has no field for (matched as encoding/json matches: exactly, else
// case-insensitively), with the field names t does take there; "" when
// every key is known. Values of the wrong shape are left to Unmarshal.
func unknownField(raw json.RawMessage, t reflect.Type, path string) (string, []string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return "", nil // decodes itself (json.RawMessage, time.Time)
	}
	switch t.Kind() {
	case reflect.Struct:
		dec := json.NewDecoder(bytes.NewReader(raw))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return "", nil
		}
		fields := jsonFields(t)
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return "", nil
			}
			key, _ := tok.(string)
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				return "", nil
			}
			if odataKey(key) {
				continue
			}
			f, ok := lookupField(fields, key)
			if !ok {
				names := make([]string, len(fields))
				for i, f := range fields {
					names[i] = f.name
				}
				return path + key, names
			}
			if p, known := unknownField(val, f.typ, path+key+"."); p != "" {
				return p, known
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return "", nil
		}
		for i, it := range items {
			if p, known := unknownField(it, t.Elem(), fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i)); p != "" {
				return p, known
			}
		}
	case reflect.Map:
		var items map[string]json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return "", nil
		}
		for k, it := range items {
			if p, known := unknownField(it, t.Elem(), path+k+"."); p != "" {
				return p, known
			}
		}
	}
	return "", nil // scalars and interfaces take anything
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the JSON fields of struct type t as encoding/json sees
// them, fields of embedded structs included.
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if sf.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, jsonFields(ft)...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, jsonField{name, ft})
	}
	return out
}

func lookupField(fields []jsonField, key string) (jsonField, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return jsonField{}, false
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	default:
		return "number"
	}
}

// statusRecorder keeps the status and the bytes written for the access
// log and the metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (WebSocket hijack).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// requestIDHeaders are the request headers a client's id is taken from,
// in their canonical form: read from the map directly, they cost no
// canonicalisation (Header.Get of "client-request-id" allocates).
var requestIDHeaders = [...]string{"X-Request-Id", "Client-Request-Id"}

// requestID returns the client's X-Request-Id (or Graph's client-request-id)
// when it is a short printable token, else a new random id. The id only
// needs to be unique, not secret (every answer shows it), so it comes from
// the runtime's per-thread generator rather than a system call.
func requestID(r *http.Request) string {
	for _, h := range requestIDHeaders {
		if vs := r.Header[h]; len(vs) > 0 {
			if id := vs[0]; id != "" && len(id) <= 64 && printableToken(id) {
				return id
			}
		}
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], mrand.Uint64())
	var out [16]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}

// printableToken reports whether id is visible ASCII without spaces, so it
// goes into logs and headers as it is.
func printableToken(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// routeOf is the route pattern the router matched ("POST
// /v1.0/chats/{id}/messages"), or "unmatched". Logs and metrics name the
// pattern, never the path: paths hold invitation tokens and ids.
func routeOf(r *http.Request) string {
	if r.Pattern == "" {
		return "unmatched"
	}
	return r.Pattern
}

// request is the middleware's state for one request, allocated once: the
// recorder the handlers write to, what the middleware learnt, the user
// authed finds, and the context that carries them. Never reused: handlers
// and what they start may keep the context and the user.
type request struct {
	rec  statusRecorder
	info requestInfo
	user identity.User
	ids  [1]string
	ctx  infoContext
}

// infoContext is the request's context with its requestInfo, one
// allocation less than context.WithValue.
type infoContext struct {
	context.Context
	info *requestInfo
}

func (c *infoContext) Value(key any) any {
	if key == any(requestInfoKey) {
		return c.info
	}
	return c.Context.Value(key)
}

func (a *API) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &request{rec: statusRecorder{ResponseWriter: w}}
		st.info.id = requestID(r)
		st.info.slot = &st.user
		// Canonical keys and shared values: no allocation of their own.
		h := w.Header()
		st.ids[0] = st.info.id
		h["Request-Id"] = st.ids[:]
		h["X-Request-Id"] = st.ids[:]
		h["X-Content-Type-Options"] = nosniff
		st.info.client, st.info.https = clientOf(r, a.TrustedProxies)
		st.ctx = infoContext{Context: r.Context(), info: &st.info}
		r = r.WithContext(&st.ctx)
		if r.Body != nil && a.MaxBodyBytes > 0 {
			limit := a.MaxBodyBytes
			if a.Files != nil && isUpload(r) {
				limit = max(limit, a.Files.MaxBytes+64<<10) // the file and a multipart envelope
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		rec := &st.rec
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.logger(r).Error("panic", "value", fmt.Sprint(v))
				if rec.status == 0 {
					a.WriteError(rec, r, fmt.Errorf("panic: %v", v))
				}
			}
			a.finished(r, rec, start)
		}()
		next.ServeHTTP(rec, r)
	})
}

// finished records a request in the metrics and the access log. The log
// line has no query string (access_token), no headers (Authorization) and
// no body (message text).
func (a *API) finished(r *http.Request, rec *statusRecorder, start time.Time) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK // nothing written: net/http sends 200
	}
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelWarn
	case a.AccessLog:
		level = slog.LevelInfo
	}
	logging := a.Log != nil && a.Log.Enabled(r.Context(), level)
	if a.Observe == nil && !logging {
		return
	}
	end := time.Now()
	took := end.Sub(start)
	route := routeOf(r)
	if a.Observe != nil {
		a.Observe(route, status, took)
	}
	if !logging {
		return
	}
	// The record goes to the handler directly: Logger.LogAttrs would read
	// the clock again and walk the stack for a source line no handler of
	// Parley's prints.
	ri := info(r)
	rd := slog.NewRecord(end, level, "request", 0)
	rd.AddAttrs(slog.String("request_id", ri.id), slog.String("method", r.Method), slog.String("route", route),
		slog.Int("status", status), slog.Float64("ms", float64(took.Microseconds())/1000), slog.Int64("bytes", rec.bytes),
		slog.String("remote", ri.client))
	_ = a.Log.Handler().Handle(r.Context(), rd) // as Logger.LogAttrs: a handler's error is dropped
}

func (a *API) logger(r *http.Request) *slog.Logger { return requestLogger(a.Log, r) }

// requestLogger is log with the request's id and caller.
func requestLogger(l *slog.Logger, r *http.Request) *slog.Logger {
	if ri, ok := r.Context().Value(requestInfoKey).(*requestInfo); ok {
		l = l.With("request_id", ri.id)
	}
	if u := userOf(r); u != nil {
		l = l.With("user", u.ID, "tenant", u.TenantID)
	}
	return l
}

// BearerToken returns the token of an Authorization: Bearer header, or of
// the access_token query parameter when allowQuery (WebSocket clients in
// browsers cannot set headers).
func BearerToken(r *http.Request, allowQuery bool) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	if allowQuery {
		return r.URL.Query().Get("access_token")
	}
	return ""
}

// authed requires a valid bearer token and puts the user in the context.
func (a *API) authed(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		u, err := a.Auth.Authenticate(r.Context(), BearerToken(r, false))
		if err != nil {
			return err
		}
		if u.Kind == identity.Anonymous {
			if err := a.anonymousScope(r, &u); err != nil {
				return err
			}
		}
		if a.Activity != nil {
			a.Activity(u.ID) // presence: an API call is activity (never blocks)
		}
		if ri, ok := r.Context().Value(requestInfoKey).(*requestInfo); ok && ri.slot != nil {
			*ri.slot = u
			ri.user = ri.slot
		} else {
			p := new(identity.User)
			*p = u
			r = r.WithContext(context.WithValue(r.Context(), userKey, p))
		}
		return h(w, r)
	}
}

// userOf returns the authenticated user of a request, or nil.
func userOf(r *http.Request) *identity.User {
	if ri, ok := r.Context().Value(requestInfoKey).(*requestInfo); ok && ri.user != nil {
		return ri.user
	}
	u, _ := r.Context().Value(userKey).(*identity.User)
	return u
}

// operator requires the operator token; without one configured the
// operator API does not exist.
func (a *API) operator(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.OperatorToken == "" {
			return notFoundPath(r)
		}
		tok := BearerToken(r, false)
		if subtle.ConstantTimeCompare([]byte(tok), []byte(a.OperatorToken)) != 1 {
			return errcode.New(errcode.Unauthenticated, "The operator token is missing or wrong.")
		}
		return h(w, r)
	}
}

// baseURL is the configured public URL, or else the scheme and host the
// client used, for @odata.nextLink (the scheme from X-Forwarded-Proto when
// a trusted proxy sent it).
func (a *API) baseURL(r *http.Request) string {
	if a.PublicURL != "" {
		return a.PublicURL
	}
	scheme := "http"
	if info(r).https {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// pageSize reads Graph's $top.
func pageSize(r *http.Request) (int, error) {
	v := r.URL.Query().Get("$top")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errcode.New(errcode.BadRequest, "$top must be a positive integer.")
	}
	return n, nil
}
