package keyset_test

import (
	"cmp"
	"slices"
	"testing"

	"github.com/parleychat/parley/internal/keyset"
)

// TestPage walks every list of up to 6 distinct keys, in every order given,
// with every limit, and checks against the oracle: the pages, joined, are
// the sorted list once each; every page but the last is full and says more
// follow; the input is left alone.
func TestPage(t *testing.T) {
	for n := 0; n <= 6; n++ {
		want := make([]int, n)
		for i := range want {
			want[i] = i * 10
		}
		in := slices.Clone(want)
		slices.Reverse(in)
		if n > 2 {
			in[0], in[n/2] = in[n/2], in[0]
		}
		for limit := 0; limit <= n+1; limit++ {
			orig := slices.Clone(in)
			var got []int
			var after *int
			for pages := 0; ; pages++ {
				if pages > n+1 {
					t.Fatalf("n=%d limit=%d: paging does not end", n, limit)
				}
				items, more := keyset.Page(in, cmp.Compare[int], after, limit)
				if limit > 0 && len(items) > limit {
					t.Fatalf("n=%d limit=%d: page of %d", n, limit, len(items))
				}
				if more && len(items) != limit {
					t.Fatalf("n=%d limit=%d: a page of %d says more follow", n, limit, len(items))
				}
				got = append(got, items...)
				if !more {
					break
				}
				last := items[len(items)-1]
				after = &last
			}
			if !slices.Equal(got, want) {
				t.Errorf("n=%d limit=%d: pages hold %v, want %v", n, limit, got, want)
			}
			if !slices.Equal(in, orig) {
				t.Errorf("n=%d limit=%d: the input changed to %v", n, limit, in)
			}
		}
	}
}

// TestPageAfterRemoved: a cursor whose item is gone starts after where it
// was; one past the end gives an empty last page.
func TestPageAfterRemoved(t *testing.T) {
	items := []int{10, 30, 40}
	for _, tc := range []struct {
		after int
		want  []int
	}{{20, []int{30, 40}}, {5, []int{10, 30, 40}}, {40, nil}, {99, nil}} {
		got, more := keyset.Page(items, cmp.Compare[int], &tc.after, 0)
		if !slices.Equal(got, tc.want) || more {
			t.Errorf("after %d: got %v, %v; want %v, false", tc.after, got, more, tc.want)
		}
	}
}
