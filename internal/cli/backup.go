package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/parleychat/parley/internal/config"
	"github.com/parleychat/parley/internal/file"
	"github.com/parleychat/parley/internal/server"
)

// backupOptions are the options backup reads: the store's and where the
// files are kept.
var backupOptions = append(append([]string{}, config.StoreOptions...),
	"files-s3-endpoint", "files-s3-bucket", "files-s3-access-key", "files-s3-secret-key", "files-s3-region")

// runBackup writes a consistent copy of the store to --out and the bytes
// of every live file to the folder --out.files (the layout of files/ in a
// data directory), so a restored server serves the same files. The
// database is copied first and the files after it, so every file the copy
// holds is there unless it was deleted meanwhile (then the restored server
// answers 404 for it, as the running one does).
func runBackup(ctx context.Context, e env, args []string) error {
	cfg := config.Default()
	fs := newFlagSet(e, "backup", "--out FILE [flags]")
	if err := cfg.Register(fs, e.getenv, backupOptions...); err != nil {
		return err
	}
	var out string
	fs.StringVar(&out, "out", "", "the backup file to write; it must not exist (SQLite: a database file; PostgreSQL: a pg_dump custom-format archive); the files go to the folder FILE.files")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := require(fs, need{"--out", out}); err != nil {
		return err
	}
	filesDir := out + ".files"
	if _, err := os.Stat(filesDir); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", filesDir)
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("backup: %w", err)
	}
	db, err := server.OpenStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer db.Close() //nolint:errcheck // a backup only reads
	blobs, err := server.OpenBlobs(ctx, cfg)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := db.Backup(ctx, out); err != nil {
		return err
	}
	if err := os.Mkdir(filesDir, 0o700); err != nil {
		return errors.Join(fmt.Errorf("backup: %w", err), os.Remove(out))
	}
	copied, missing, err := file.Copy(ctx, func(fn func(file.File) error) error { return db.LiveFiles(ctx, fn) }, blobs, file.Dir{Path: filesDir})
	if err != nil {
		// A backup without its files is no backup.
		return errors.Join(fmt.Errorf("backup: files: %w", err), os.Remove(out), os.RemoveAll(filesDir))
	}
	fmt.Fprintf(e.stdout, "Wrote a backup of the %s store to %s and its %d files to %s.\n", cfg.Store.Kind, out, copied, filesDir)
	if missing > 0 {
		fmt.Fprintf(e.stderr, "%d files had no bytes in the file store (deleted while the backup ran, or lost before it); they answer 404.\n", missing)
	}
	return nil
}
