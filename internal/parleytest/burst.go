package parleytest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Req is one request of a Burst: a JSON body (nil: none), or a form.
type Req struct {
	Method, URL, Token string
	JSON               []byte
	Form               url.Values
	Header             http.Header // extra headers (X-Forwarded-For…)
}

// Result is one answer of a Burst.
type Result struct {
	Status int
	Body   string
}

// Burst sends the requests all at the same instant: each on a connection of
// its own, opened and warmed beforehand (a GET of /healthz on the same
// host), and all released together from one barrier, so the server sees
// them as close together as loopback allows. It returns the answers in the
// order of reqs.
func Burst(tb testing.TB, reqs []Req) []Result {
	tb.Helper()
	out := make([]Result, len(reqs))
	errs := make([]error, len(reqs))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, r := range reqs {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
			defer c.CloseIdleConnections()
			u, err := url.Parse(r.URL)
			if err == nil {
				var resp *http.Response
				if resp, err = c.Get(u.Scheme + "://" + u.Host + "/healthz"); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused
					_ = resp.Body.Close()
				}
			}
			ready.Done()
			<-start
			if err != nil {
				errs[i] = err
				return
			}
			var body io.Reader
			var ctype string
			switch {
			case r.Form != nil:
				body, ctype = strings.NewReader(r.Form.Encode()), "application/x-www-form-urlencoded"
			case r.JSON != nil:
				body, ctype = bytes.NewReader(r.JSON), "application/json"
			}
			req, err := http.NewRequest(r.Method, r.URL, body)
			if err != nil {
				errs[i] = err
				return
			}
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			if r.Token != "" {
				req.Header.Set("Authorization", "Bearer "+r.Token)
			}
			for k, vs := range r.Header {
				req.Header[http.CanonicalHeaderKey(k)] = vs
			}
			resp, err := c.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			b, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			out[i], errs[i] = Result{Status: resp.StatusCode, Body: string(b)}, err
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("burst request %d (%s %s): %v", i, reqs[i].Method, reqs[i].URL, err)
		}
	}
	return out
}

// Statuses counts the answers of a burst by status code.
func Statuses(rs []Result) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}
