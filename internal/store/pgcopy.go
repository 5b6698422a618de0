package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5/stdlib"
)

// copyMinRows is the fewest rows the PostgreSQL writer stores with COPY
// instead of a multi-row INSERT. pgx encodes an INSERT's arguments into
// buffers it drops after each statement when they grew past 256 bytes
// (and its send buffer past 1 KiB), so a group's 40 KiB INSERT of events
// left some 250 KiB of garbage: three quarters of the server's allocation
// per message at saturation, and the GC time that came with it. COPY's
// rows are encoded here, into a buffer the writer keeps
// (docs/decisions.md, "PostgreSQL: a group's rows by COPY").
const copyMinRows = 9

// copyRows is the writer goroutine's binary COPY encoder (PostgreSQL's
// COPY … FROM STDIN BINARY format: a header, per row a field count and
// each field's length and bytes, a trailer). Every column the writer
// copies is TEXT or BIGINT, whose binary forms are the UTF-8 bytes and
// the big-endian 64-bit integer.
type copyRows struct {
	buf  []byte
	rd   bytes.Reader
	rows int
}

// reset starts a new COPY stream.
func (c *copyRows) reset() {
	c.buf = append(c.buf[:0], "PGCOPY\n\377\r\n\000"...)
	c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // flags
	c.buf = binary.BigEndian.AppendUint32(c.buf, 0) // header extension length
	c.rows = 0
}

// row starts a row of n fields.
func (c *copyRows) row(n int) {
	c.buf = binary.BigEndian.AppendUint16(c.buf, uint16(n))
	c.rows++
}

func (c *copyRows) text(s string) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(s)))
	c.buf = append(c.buf, s...)
}

func (c *copyRows) bytes(b []byte) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(b)))
	c.buf = append(c.buf, b...)
}

func (c *copyRows) int8(v int64) {
	c.buf = binary.BigEndian.AppendUint32(c.buf, 8)
	c.buf = binary.BigEndian.AppendUint64(c.buf, uint64(v))
}

// canCopy reports whether tx is the writer's transaction on PostgreSQL,
// whose connection can take a COPY.
func (db *DB) canCopy(tx *sql.Tx, rows int) bool {
	return db.dialect == Postgres && rows >= copyMinRows && tx == db.writerTx.Load() && db.wconn != nil
}

// copyIn sends the rows encoded in db.copy with stmt (COPY … FROM STDIN
// BINARY) on the writer's connection, inside its open transaction.
func (db *DB) copyIn(stmt string) error {
	c := &db.copy
	c.buf = binary.BigEndian.AppendUint16(c.buf, 0xFFFF) // trailer
	c.rd.Reset(c.buf)
	err := db.wconn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy: writer connection is a %T", dc)
		}
		tag, err := sc.Conn().PgConn().CopyFrom(context.Background(), &c.rd, stmt)
		if err != nil {
			return err
		}
		if n := tag.RowsAffected(); n != int64(c.rows) {
			return fmt.Errorf("copy stored %d of %d rows", n, c.rows)
		}
		return nil
	})
	if cap(c.buf) > 4<<20 {
		c.buf = nil // an outsized group's buffer is not kept
	}
	return err
}
