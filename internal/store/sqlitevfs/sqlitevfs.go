// Package sqlitevfs registers "parley-wal", a VFS for modernc.org/sqlite that
// is SQLite's own "unix" VFS except for the write-ahead log: the frames SQLite
// appends to a WAL file are gathered in a buffer and reach the file with one
// pwrite per commit.
//
// Why: SQLite writes every WAL frame with two pwrite calls, the 24-byte frame
// header and then the page, so a commit of 23 pages makes 46 syscalls before
// its fsync, and on a VM each costs several µs.
//
// Why it is safe. Nothing stays buffered once the connection releases the
// WAL write lock (the database file's xShmLock flushes the WAL first), so no
// other connection writes, truncates or recovers the WAL while this one holds
// unwritten bytes of it, and the bytes land in the order SQLite wrote them.
// While the lock is held, other connections read only frames SQLite has
// published in the wal-index header (readers and checkpointers read up to the
// mxFrame of the header they hold), and the writer reads the WAL through this
// file, which flushes before every read. walFrames
// (sqlite3WalFrames in sqlite3.c) writes a transaction's frames in order, the
// commit frame last, then, with synchronous=FULL, calls xSync on the WAL, and
// only after that walIndexWriteHdr, which publishes the frames. The buffer is
// flushed before that xSync, so every frame is on disk before anyone can see
// it, and an acknowledged commit is on disk exactly as without the buffer.
// The buffer does not rely on the sync alone:
//
//   - The commit frame (the one whose header carries the database size) is
//     written out as soon as its page is buffered, so publication finds the
//     frames in the file with synchronous=NORMAL or OFF too, where walFrames
//     does not sync.
//   - Only the WAL header, a frame header and the page right after it are
//     buffered. Any other write (a page rewritten in place, the rest of a
//     frame split at a sync point) and a write into the range the previous
//     call read (walRewriteChecksums reads each frame and rewrites its
//     header after the commit frame) flushes the buffer and goes through.
//   - A database opened with psow=0 (no powersafe overwrite, where SQLite
//     pads a commit to a sector and syncs inside a frame) is not buffered.
//
// Every other method of the WAL flushes first (xSync, xRead, xTruncate,
// xFileSize, xFileControl, xFetch, xUnfetch, xClose) or is never called on a
// WAL (locks and shared memory belong to the database file), and a write
// that does not continue the buffer flushes it first. What a caller can
// observe is when a failing write reports its error: at the flush, which for
// a commit is still inside walFrames, before the commit is published. The
// buffer holds at most 0x1ffff bytes, the most the unix VFS writes in one
// call; a larger commit, or a transaction that spills its cache into the
// WAL, is written in pieces.
//
// A main database file is the unix file with xShmLock and xClose wrapped, to
// reach its WAL (found through SQLite's Wal object, which holds the WAL's
// file); every other file (journals, temporary files) is the unix file.
package sqlitevfs

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Name is the VFS name to pass as vfs= in a modernc.org/sqlite DSN.
const Name = "parley-wal"

const (
	// maxBuffer is the most one WAL file holds back, and the size of its
	// buffer: the unix VFS writes at most 0x1ffff bytes in one call
	// (seekAndWriteFd masks the length with it, as SQLite itself never
	// writes more), so a commit of more is written in pieces of 31 frames.
	maxBuffer = 0x1ffff
	// frameHeader and walHeader are the sizes of a WAL frame header
	// (WAL_FRAME_HDRSIZE) and of the WAL file's header (WAL_HDRSIZE).
	frameHeader = 24
	walHeader   = 32
)

var (
	registerOnce sync.Once
	registerErr  error

	// unixVFS is the "unix" VFS every call is delegated to; unixSize is the
	// size of its sqlite3_file, rounded up so that walFile after it is
	// aligned. Both are set once by Register.
	unixVFS  uintptr
	unixSize uintptr
	psow     uintptr // "psow" as a C string

	// walMethodsOf and dbMethodsOf map the unix io_methods of an open WAL
	// or main database file to this package's copy, allocated in C memory
	// once per distinct unix io_methods (in practice one); ours is the set
	// of the database copies.
	methodsMu    sync.Mutex
	walMethodsOf = map[uintptr]uintptr{}
	dbMethodsOf  = map[uintptr]uintptr{}
	ours         = map[uintptr]bool{}

	// walWrites counts the writes that reach a WAL file opened for writing,
	// walThrough those of them that a buffering file passed through: for the
	// tests, which check that a commit is one write and that the rewrites
	// of a large transaction happened.
	walWrites, walThrough atomic.Int64
)

// walFile is the state this VFS keeps after the unix file of a WAL or of a
// main database file. It lives in the C memory SQLite allocated for the file
// (szOsFile), so it holds no Go pointers.
type walFile struct {
	real uintptr // the unix io_methods the file was opened with
	// A main database file: its WAL, while open.
	wal uintptr
	// A WAL:
	db       uintptr // its main database file, whose write-lock release flushes
	buf      uintptr // C memory of maxBuffer bytes not yet written, or 0
	off      int64   // file offset of buf[0]
	n        int64   // bytes in buf
	readOff  int64   // range of the last xRead, while no write followed it
	readEnd  int64
	on       int32 // 1: buffer writes; 0: pass everything through
	hdr      int32 // 1: the last write was a frame header, buffered
	flushNxt int32 // 1: and that header is a commit frame's
}

// Register registers the VFS under Name, once per process. It must run
// before a connection is opened with vfs=Name.
func Register() error {
	registerOnce.Do(func() { registerErr = register() })
	return registerErr
}

func register() error {
	tls := libc.NewTLS()
	defer tls.Close()
	unix := sqlite3.Xsqlite3_vfs_find(tls, 0)
	if unix == 0 {
		return fmt.Errorf("sqlitevfs: no default VFS")
	}
	u := (*sqlite3.Tsqlite3_vfs)(cptr(unix))
	unixVFS = unix
	unixSize = (uintptr(u.FszOsFile) + 7) &^ 7
	p := libc.Xcalloc(tls, 1, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_vfs{})))
	if p == 0 {
		return fmt.Errorf("sqlitevfs: out of memory")
	}
	name, err := libc.CString(Name)
	if err != nil {
		return fmt.Errorf("sqlitevfs: %w", err)
	}
	if psow, err = libc.CString("psow"); err != nil {
		return fmt.Errorf("sqlitevfs: %w", err)
	}
	v := (*sqlite3.Tsqlite3_vfs)(cptr(p))
	*v = *u
	v.FpNext = 0
	v.FzName = name
	v.FszOsFile = int32(unixSize + unsafe.Sizeof(walFile{}))
	v.FxOpen = cFuncPointer(xOpen)
	if rc := sqlite3.Xsqlite3_vfs_register(tls, p, 0); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("sqlitevfs: register %s: sqlite error %d", Name, rc)
	}
	return nil
}

// cFuncPointer turns a top-level Go function into the C function pointer
// that transpiled SQLite calls (as modernc.org/sqlite does for its hooks).
func cFuncPointer[T any](f T) uintptr {
	return *(*uintptr)(unsafe.Pointer(&struct{ f T }{f}))
}

// cptr is the C pointer p as an unsafe.Pointer. Every pointer this package
// handles is C memory (SQLite's or libc's allocator), which the garbage
// collector neither moves nor frees, so holding it in a uintptr is safe; the
// indirection keeps go vet's unsafeptr check from flagging each conversion.
func cptr(p uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&p))
}

func state(pFile uintptr) *walFile {
	return (*walFile)(cptr(pFile + unixSize))
}

// xOpen opens the file with the unix VFS in the same memory. A main database
// file gets io_methods whose xShmLock flushes its WAL before the write lock
// is released; a WAL those that buffer. Every other file is the unix file.
func xOpen(tls *libc.TLS, _ uintptr, zName, pFile uintptr, flags int32, pOutFlags uintptr) int32 {
	u := (*sqlite3.Tsqlite3_vfs)(cptr(unixVFS))
	rc := (*(*func(*libc.TLS, uintptr, uintptr, uintptr, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{u.FxOpen})))(tls, unixVFS, zName, pFile, flags, pOutFlags)
	f := (*sqlite3.Tsqlite3_file)(cptr(pFile))
	if rc != sqlite3.SQLITE_OK || f.FpMethods == 0 {
		return rc
	}
	real := f.FpMethods
	switch {
	case flags&sqlite3.SQLITE_OPEN_MAIN_DB != 0:
		if m := methodsFor(tls, real, false); m != 0 {
			*state(pFile) = walFile{real: real}
			f.FpMethods = m
		}
	case flags&sqlite3.SQLITE_OPEN_WAL != 0:
		// sqlite3WalOpen allocates the Wal object and the WAL's file in one
		// piece, the file right after it (pWalFd = &pRet[1]), and sets
		// pDbFd before it opens the file. A WAL whose database cannot be
		// found that way, or was not opened here, is left unbuffered.
		w := (*sqlite3.TWal)(cptr(pFile - unsafe.Sizeof(sqlite3.TWal{})))
		if w.FpWalFd != pFile || w.FpDbFd == 0 || !isOurs(w.FpDbFd) {
			return rc
		}
		m := methodsFor(tls, real, true)
		if m == 0 {
			return rc
		}
		*state(pFile) = walFile{real: real, db: w.FpDbFd}
		state(w.FpDbFd).wal = pFile
		// SQLite pads commits to a sector boundary, and syncs inside a
		// frame, unless the database file is powersafe-overwrite, which the
		// unix VFS takes from the psow URI parameter (default on); the
		// WAL's name gives access to the database's parameters.
		if sqlite3.Xsqlite3_uri_boolean(tls, zName, psow, 1) != 0 {
			state(pFile).on = 1
		}
		f.FpMethods = m
	}
	return rc
}

func isOurs(pFile uintptr) bool {
	m := (*sqlite3.Tsqlite3_file)(cptr(pFile)).FpMethods
	methodsMu.Lock()
	defer methodsMu.Unlock()
	return ours[m]
}

// methodsFor returns this package's copy of the io_methods real: the same
// entries, with those of a WAL (the ones that write, read or size the file)
// or of a main database file (xShmLock, xClose) replaced.
func methodsFor(tls *libc.TLS, real uintptr, wal bool) uintptr {
	methodsMu.Lock()
	defer methodsMu.Unlock()
	of := dbMethodsOf
	if wal {
		of = walMethodsOf
	}
	if m, ok := of[real]; ok {
		return m
	}
	m := libc.Xcalloc(tls, 1, uint64(unsafe.Sizeof(sqlite3.Tsqlite3_io_methods{})))
	if m == 0 {
		return 0
	}
	io := (*sqlite3.Tsqlite3_io_methods)(cptr(m))
	*io = *(*sqlite3.Tsqlite3_io_methods)(cptr(real))
	if !wal {
		io.FxClose = cFuncPointer(dbClose)
		if io.FiVersion >= 2 && io.FxShmLock != 0 {
			io.FxShmLock = cFuncPointer(dbShmLock)
		}
		ours[m] = true
		of[real] = m
		return m
	}
	io.FxClose = cFuncPointer(walClose)
	io.FxRead = cFuncPointer(walRead)
	io.FxWrite = cFuncPointer(walWrite)
	io.FxTruncate = cFuncPointer(walTruncate)
	io.FxSync = cFuncPointer(walSync)
	io.FxFileSize = cFuncPointer(walFileSize)
	io.FxFileControl = cFuncPointer(walFileControl)
	if io.FiVersion >= 3 {
		if io.FxFetch != 0 {
			io.FxFetch = cFuncPointer(walFetch)
		}
		if io.FxUnfetch != 0 {
			io.FxUnfetch = cFuncPointer(walUnfetch)
		}
	}
	of[real] = m
	return m
}

// dbShmLock writes what the database's WAL holds before the write lock
// (WAL_WRITE_LOCK, slot 0) is released. A commit has written its frames by
// then; what is left is frames of a transaction that spilled and rolled back.
// They are garbage beyond the last commit, but once the lock is free another
// connection may write the same offsets or a checkpoint truncate the WAL, and
// a late write would land on top: so they reach the file while the lock is
// held, as they would have without the buffer. An error writing them is not
// returned (the lock must still be released) and loses nothing committed.
func dbShmLock(tls *libc.TLS, pFile uintptr, ofst, n, flags int32) int32 {
	s := state(pFile)
	if s.wal != 0 && flags&sqlite3.SQLITE_SHM_UNLOCK != 0 && ofst <= sqlite3.WAL_WRITE_LOCK && sqlite3.WAL_WRITE_LOCK < ofst+n {
		flush(tls, s.wal)
	}
	fp := (*sqlite3.Tsqlite3_io_methods)(cptr(s.real)).FxShmLock
	return (*(*func(*libc.TLS, uintptr, int32, int32, int32) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, ofst, n, flags)
}

// dbClose unlinks the database's WAL (SQLite closes the WAL first) and closes
// the unix file.
func dbClose(tls *libc.TLS, pFile uintptr) int32 {
	s := state(pFile)
	if s.wal != 0 {
		state(s.wal).db = 0
	}
	fp := (*sqlite3.Tsqlite3_io_methods)(cptr(s.real)).FxClose
	*s = walFile{}
	return (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile)
}

func realMethods(pFile uintptr) *sqlite3.Tsqlite3_io_methods {
	return (*sqlite3.Tsqlite3_io_methods)(cptr(state(pFile).real))
}

func realWrite(tls *libc.TLS, pFile, p uintptr, n int32, off int64) int32 {
	walWrites.Add(1)
	fp := realMethods(pFile).FxWrite
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, p, n, off)
}

// flush writes the buffered bytes with one xWrite of the unix file and
// empties the buffer, whether or not the write succeeded (as a failed
// unbuffered write would not be retried either).
func flush(tls *libc.TLS, pFile uintptr) int32 {
	s := state(pFile)
	s.flushNxt = 0
	if s.n == 0 {
		return sqlite3.SQLITE_OK
	}
	n, off := s.n, s.off
	s.n = 0
	return realWrite(tls, pFile, s.buf, int32(n), off)
}

func walWrite(tls *libc.TLS, pFile, p uintptr, iAmt int32, iOfst int64) int32 {
	s := state(pFile)
	follows := s.n > 0 && iOfst == s.off+s.n
	// page: the page of the frame whose header was the last write; commit:
	// and that header marked the commit frame.
	page := follows && s.hdr != 0
	commit := page && s.flushNxt != 0
	read := s.readEnd > s.readOff && iOfst >= s.readOff && iOfst < s.readEnd
	s.hdr, s.flushNxt, s.readOff, s.readEnd = 0, 0, 0, 0
	header := iAmt == frameHeader
	if s.on == 0 || read || !(header || page || iAmt == walHeader && iOfst == 0) || int64(iAmt) > maxBuffer {
		// Not a WAL header, frame header or the page after it (the rest of
		// a frame split at a sync point, a page rewritten in place), a
		// read-modify-write (walRewriteChecksums), or more than the buffer
		// holds: write it through, after what is buffered.
		if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
		if s.on != 0 {
			walThrough.Add(1)
		}
		return realWrite(tls, pFile, p, iAmt, iOfst)
	}
	if s.n > 0 && (!follows || s.n+int64(iAmt) > maxBuffer) {
		if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
			return rc
		}
	}
	if s.n == 0 {
		s.off = iOfst
	}
	if s.buf == 0 {
		if s.buf = libc.Xmalloc(tls, maxBuffer); s.buf == 0 {
			return realWrite(tls, pFile, p, iAmt, iOfst) // s.n is 0
		}
	}
	copy(unsafe.Slice((*byte)(cptr(s.buf+uintptr(s.n))), iAmt), unsafe.Slice((*byte)(cptr(p)), iAmt))
	s.n += int64(iAmt)
	if commit {
		// The commit frame is complete: the transaction's last write before
		// walFrames publishes it.
		return flush(tls, pFile)
	}
	if header {
		s.hdr = 1
		// Bytes 4-7 of a frame header: the database size after a commit
		// frame, 0 in any other.
		if binary.BigEndian.Uint32(unsafe.Slice((*byte)(cptr(p)), frameHeader)[4:8]) != 0 {
			s.flushNxt = 1
		}
	}
	return sqlite3.SQLITE_OK
}

func walRead(tls *libc.TLS, pFile, p uintptr, iAmt int32, iOfst int64) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	s := state(pFile)
	s.readOff, s.readEnd = iOfst, iOfst+int64(iAmt)
	fp := realMethods(pFile).FxRead
	return (*(*func(*libc.TLS, uintptr, uintptr, int32, int64) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, p, iAmt, iOfst)
}

func walTruncate(tls *libc.TLS, pFile uintptr, size int64) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fp := realMethods(pFile).FxTruncate
	return (*(*func(*libc.TLS, uintptr, int64) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, size)
}

func walSync(tls *libc.TLS, pFile uintptr, flags int32) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fp := realMethods(pFile).FxSync
	return (*(*func(*libc.TLS, uintptr, int32) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, flags)
}

func walFileSize(tls *libc.TLS, pFile, pSize uintptr) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fp := realMethods(pFile).FxFileSize
	return (*(*func(*libc.TLS, uintptr, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, pSize)
}

func walFileControl(tls *libc.TLS, pFile uintptr, op int32, pArg uintptr) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fp := realMethods(pFile).FxFileControl
	return (*(*func(*libc.TLS, uintptr, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, op, pArg)
}

func walFetch(tls *libc.TLS, pFile uintptr, iOfst int64, iAmt int32, pp uintptr) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fp := realMethods(pFile).FxFetch
	return (*(*func(*libc.TLS, uintptr, int64, int32, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, iOfst, iAmt, pp)
}

func walUnfetch(tls *libc.TLS, pFile uintptr, iOfst int64, p uintptr) int32 {
	if rc := flush(tls, pFile); rc != sqlite3.SQLITE_OK {
		return rc
	}
	fp := realMethods(pFile).FxUnfetch
	return (*(*func(*libc.TLS, uintptr, int64, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile, iOfst, p)
}

// walClose writes what is buffered, frees the buffer and closes the unix
// file; an error of the write is returned after the file is closed.
func walClose(tls *libc.TLS, pFile uintptr) int32 {
	rc := flush(tls, pFile)
	s := state(pFile)
	if s.buf != 0 {
		libc.Xfree(tls, s.buf)
	}
	if s.db != 0 {
		state(s.db).wal = 0
	}
	fp := realMethods(pFile).FxClose
	*s = walFile{}
	crc := (*(*func(*libc.TLS, uintptr) int32)(unsafe.Pointer(&struct{ uintptr }{fp})))(tls, pFile)
	if rc != sqlite3.SQLITE_OK {
		return rc
	}
	return crc
}
