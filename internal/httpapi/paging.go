package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/parleychat/parley/internal/errcode"
)

// Lists page with Graph's $top and @odata.nextLink (docs/rules.md §11): a page
// that has more after it carries a nextLink, the same request with an
// opaque $skiptoken that holds the sort key of the page's last item
// (keyset paging, so removals between pages shift nothing). Lists the
// store pages (chats, messages, audit, users, requests) use the keys of
// their query; short lists a service returns whole (a chat's members, the
// caller's blocks, the tenant's policies) are paged here over the sorted
// list by the same rules.

// makeSkipToken encodes the sort key of a page's last item.
func makeSkipToken(keys ...string) string {
	b, _ := json.Marshal(keys) // a []string always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

// skipToken decodes the $skiptoken of r into its n keys: nil when there
// is none; badRequest when it is not one makeSkipToken made with n keys.
func skipToken(r *http.Request, n int) ([]string, error) {
	tok := r.URL.Query().Get("$skiptoken")
	if tok == "" {
		return nil, nil
	}
	var keys []string
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(b, &keys) != nil || len(keys) != n {
		return nil, errcode.New(errcode.BadRequest, "$skiptoken is not valid.")
	}
	return keys, nil
}

// timeKey and parseTimeKey carry a time in a skip token (microseconds,
// as the store keeps it).
func timeKey(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

func parseTimeKey(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, errcode.New(errcode.BadRequest, "$skiptoken is not valid.")
	}
	return time.UnixMicro(n).UTC(), nil
}

// timeIDSkipToken decodes a (time, id) $skiptoken, the sort key of the
// keyset-paged lists: ok is false when there is none.
func timeIDSkipToken(r *http.Request) (t time.Time, id string, ok bool, err error) {
	keys, err := skipToken(r, 2)
	if err != nil || keys == nil {
		return time.Time{}, "", false, err
	}
	t, err = parseTimeKey(keys[0])
	if err != nil || keys[1] == "" {
		return time.Time{}, "", false, errcode.New(errcode.BadRequest, "$skiptoken is not valid.")
	}
	return t, keys[1], true, nil
}

// idKey carries a positive integer id (a message's, an audit entry's) in a
// skip token.
func idKey(id int64) string { return strconv.FormatInt(id, 10) }

// idSkipToken decodes a one-key $skiptoken holding a positive integer id:
// ok is false when there is none.
func idSkipToken(r *http.Request) (id int64, ok bool, err error) {
	keys, err := skipToken(r, 1)
	if err != nil || keys == nil {
		return 0, false, err
	}
	id, perr := strconv.ParseInt(keys[0], 10, 64)
	if perr != nil || id <= 0 {
		return 0, false, errcode.New(errcode.BadRequest, "$skiptoken is not valid.")
	}
	return id, true, nil
}
