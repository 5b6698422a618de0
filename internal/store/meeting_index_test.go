package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

// TestMeetingSweepIndex: the meeting sweep finds the meetings it must end
// from the live anonymous participants and lobby waits, through their
// state indexes, not by reading every meeting or participant. Both stores.
func TestMeetingSweepIndex(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		db := storetest.Open(t, d)
		plan, err := db.ExplainOverdueMeetings(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, index := range []string{"meeting_participants_live", "meeting_people_state"} {
			if !strings.Contains(plan, index) {
				t.Errorf("the sweep's query does not use %s:\n%s", index, plan)
			}
		}
		for _, scan := range []string{"SCAN meetings", "SCAN meeting_participants", "Seq Scan"} {
			if strings.Contains(plan, scan) {
				t.Errorf("the sweep's query reads a whole table (%s):\n%s", scan, plan)
			}
		}
	})
}
