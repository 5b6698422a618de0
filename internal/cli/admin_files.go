package cli

import (
	"context"
	"flag"
	"fmt"
)

// fileConfigPath is the tenant's file sharing setting (docs/rules.md §7).
const fileConfigPath = "/parley/v1/admin/fileConfiguration"

// fileConfigSet defines 'files set': a PATCH of allowExternalFileSharing,
// refused before connecting when the flag is missing.
func fileConfigSet(fs *flag.FlagSet) adminAction {
	var ext optBool
	fs.Var(&ext, "allow-external", "people of the organisation may share files in chats with people outside it (allowExternalFileSharing)")
	return adminAction{
		check: func(fs *flag.FlagSet) error {
			if !ext.set {
				fmt.Fprintf(fs.Output(), "%s: --allow-external is required\n", fs.Name())
				return errUsage
			}
			return nil
		},
		run: func(ctx context.Context, x adminCall) error {
			return x.show(ctx, "PATCH", fileConfigPath, map[string]any{"allowExternalFileSharing": ext.v})
		},
	}
}
