package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parleychat/parley/internal/meeting"
)

// ExplainOverdueMeetings returns the plan the store's database makes for
// the meeting sweep's query (TestMeetingSweepIndex). On PostgreSQL
// sequential scans are discouraged for it, as they would be on a table of
// real size rather than a test's few rows.
func (db *DB) ExplainOverdueMeetings(ctx context.Context) (string, error) {
	var plan []string
	err := db.inWrite(ctx, func(tx *sql.Tx) error {
		plan = plan[:0]
		explain := "EXPLAIN QUERY PLAN "
		if db.dialect == Postgres {
			explain = "EXPLAIN "
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		rows, err := db.txQuery(tx, explain+overdueMeetingsQuery, micros(time.Now()), string(meeting.InLobby), string(meeting.Admitted), string(meeting.InLobby), 100)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			for _, v := range vals {
				plan = append(plan, fmt.Sprint(v))
			}
		}
		return rows.Err()
	})
	return strings.Join(plan, "\n"), err
}
