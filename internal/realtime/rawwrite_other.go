//go:build !unix

package realtime

// canWriteNow: without write(2) every event goes to a writer goroutine.
const canWriteNow = false

func rawWriteFD(uintptr, []byte) (int, error) { return 0, nil }
