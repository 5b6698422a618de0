package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/graph"
	"github.com/parleychat/parley/internal/search"
)

// routesSearch registers message search (Graph's and Parley's simple
// path) and the people finder (docs/rules.md §7).
func (a *API) routesSearch() {
	a.handle("POST /v1.0/search/query", a.authed(a.searchQuery))
	a.handle("GET /parley/v1/search/messages", a.authed(a.searchMessages))
	a.handle("GET /parley/v1/people", a.authed(a.findPeople))
}

// searchRequestIn is Graph's searchRequest, the part Parley reads.
type searchRequestIn struct {
	EntityTypes []string `json:"entityTypes"`
	Query       *struct {
		QueryString string `json:"queryString"`
	} `json:"query"`
	From *int `json:"from"`
	Size *int `json:"size"`
}

// searchQuery is Graph's POST /search/query for entityTypes chatMessage:
// one request per call, as Graph allows for messages.
func (a *API) searchQuery(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Requests []searchRequestIn `json:"requests"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Requests) != 1 {
		return errcode.New(errcode.BadRequest, "requests must hold exactly one search request.")
	}
	rq := in.Requests[0]
	if len(rq.EntityTypes) != 1 || rq.EntityTypes[0] != "chatMessage" {
		return errcode.New(errcode.BadRequest, "entityTypes must be [\"chatMessage\"]: Parley searches chat messages.")
	}
	if rq.Query == nil {
		return errcode.New(errcode.BadRequest, "query.queryString is required.")
	}
	from, size := 0, 0
	if rq.From != nil {
		from = *rq.From
	}
	if rq.Size != nil {
		if size = *rq.Size; size < 1 {
			return errcode.New(errcode.BadRequest, "size must be a positive integer.")
		}
	}
	me := userOf(r)
	res, err := a.Search.Messages(r.Context(), me, rq.Query.QueryString, search.Relevance, from, size)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Value []graph.SearchResponse `json:"value"`
	}{[]graph.SearchResponse{graph.NewSearchResponse(&res, me)}})
	return nil
}

// searchMessages is Parley's simple search: ?q=…&sort=newest|relevance,
// paged with $top and @odata.nextLink.
func (a *API) searchMessages(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	offset := 0
	keys, err := skipToken(r, 1)
	if err != nil {
		return err
	}
	if keys != nil {
		if offset, err = strconv.Atoi(keys[0]); err != nil || offset < 0 {
			return errcode.New(errcode.BadRequest, "$skiptoken is not valid.")
		}
	}
	qv := r.URL.Query()
	me := userOf(r)
	res, err := a.Search.Messages(r.Context(), me, qv.Get("q"), search.Sort(qv.Get("sort")), offset, limit)
	if err != nil {
		return err
	}
	out := struct {
		Value    []graph.SearchHit `json:"value"`
		Total    int               `json:"total"`
		NextLink string            `json:"@odata.nextLink,omitempty"`
	}{Value: graph.NewSearchHits(&res, me), Total: res.Total}
	if res.More {
		out.NextLink = a.nextLink(r, makeSkipToken(strconv.Itoa(offset+len(res.Hits))))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// findPeople suggests people to start a chat with: ?q=<prefix of a name or
// address>&$top=N.
func (a *API) findPeople(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	me := userOf(r)
	us, err := a.Search.People(r.Context(), me, r.URL.Query().Get("q"), limit)
	if err != nil {
		return err
	}
	out := page[graph.User]{Value: make([]graph.User, 0, len(us))}
	for i := range us {
		out.Value = append(out.Value, graph.NewUser(&us[i], me))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// searchProperties are the user properties Graph's $search may name; each
// is matched as people search matches (a word of the name, the start of
// an address).
var searchProperties = map[string]bool{"displayname": true, "mail": true, "userprincipalname": true, "givenname": true, "surname": true}

// searchUsers is Graph's people search on the users list,
// GET /v1.0/users?$search="displayName:ada" (clauses joined by OR; the
// ConsistencyLevel: eventual header Graph asks for is accepted, not
// needed): the same people /parley/v1/people suggests, never an outsider
// (docs/rules.md §4's rule of silence), one page of at most 25.
func (a *API) searchUsers(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Has("$filter") {
		return errcode.New(errcode.BadRequest, "$search cannot be combined with $filter.")
	}
	limit, err := pageSize(r)
	if err != nil {
		return err
	}
	var terms []string
	for _, clause := range strings.Split(q.Get("$search"), " OR ") {
		clause = strings.TrimSpace(clause)
		inner, ok := strings.CutPrefix(clause, `"`)
		inner, ok2 := strings.CutSuffix(inner, `"`)
		prop, val, ok3 := strings.Cut(inner, ":")
		if !ok || !ok2 || !ok3 || !searchProperties[strings.ToLower(prop)] || strings.TrimSpace(val) == "" {
			return errcode.New(errcode.BadRequest, `$search takes "property:text" clauses joined by OR, on displayName, givenName, surname, mail or userPrincipalName.`)
		}
		terms = append(terms, val)
	}
	me := userOf(r)
	capped := search.DefaultPeople
	if limit > 0 {
		capped = min(limit, search.MaxPeople)
	}
	out := page[graph.User]{Value: []graph.User{}}
	seen := map[string]bool{}
	for _, term := range terms {
		us, err := a.Search.People(r.Context(), me, term, limit)
		if err != nil {
			return err
		}
		for i := range us {
			if id := string(us[i].ID); !seen[id] && len(out.Value) < capped {
				seen[id] = true
				out.Value = append(out.Value, graph.NewUser(&us[i], me))
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
