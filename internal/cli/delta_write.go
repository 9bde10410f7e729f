package cli

import (
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/delta"
)

// deltaWriteCommands are the maintenance commands of `lakebox delta`
// (optimize, vacuum, restore) over a local Delta table directory. They are
// registered by newDeltaCmd.
func deltaWriteCommands(g *globals) []*cobra.Command {
	var zorder string
	var target int64
	optimize := &cobra.Command{
		Use:   "optimize PATH",
		Short: "Compact small files of a Delta table (optionally Z-ordered)",
		Long: `Bin-pack the small files of each partition into files of about the target
size (table property delta.targetFileSize, default 128 MiB). With --zorder-by
the rows of each partition are rewritten in Z-order of the given columns.
Rows are unchanged; the commit has dataChange=false.`,
		Args: exactArgs(1, "PATH"),
		RunE: func(c *cobra.Command, args []string) error {
			tbl, closeFn, err := openDeltaPath(c.Context(), g.env, args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			opts := delta.OptimizeOptions{TargetFileSize: target}
			if zorder != "" {
				for _, col := range strings.Split(zorder, ",") {
					opts.ZOrderBy = append(opts.ZOrderBy, strings.TrimSpace(col))
				}
			}
			res, err := tbl.Optimize(c.Context(), opts)
			if err != nil {
				return err
			}
			return g.emit(res, func() *table {
				t := &table{header: []string{"COMMITTED", "VERSION", "FILES_REMOVED", "FILES_ADDED", "BYTES_REMOVED", "BYTES_ADDED", "PARTITIONS"}}
				t.add(res.Committed, versionCell(res.Committed, res.Version), res.FilesRemoved, res.FilesAdded, res.BytesRemoved, res.BytesAdded, res.PartitionsTouched)
				return t
			})
		},
	}
	optimize.Flags().StringVar(&zorder, "zorder-by", "", "comma-separated data columns to Z-order by")
	optimize.Flags().Int64Var(&target, "target-size", 0, "target file size in bytes (default: table property or 128 MiB)")

	var retainHours float64
	var dryRun, force bool
	vacuum := &cobra.Command{
		Use:   "vacuum PATH",
		Short: "Delete files no longer referenced by the table within the retention window",
		Long: `Delete data files that no table version within the retention window references
(default: the table's delta.deletedFileRetentionDuration, 7 days). A retention
below the configured one is refused unless --force is given. --dry-run lists the
files without deleting them.`,
		Args: exactArgs(1, "PATH"),
		RunE: func(c *cobra.Command, args []string) error {
			if retainHours < 0 {
				return usagef("--retain-hours must be >= 0")
			}
			tbl, closeFn, err := openDeltaPath(c.Context(), g.env, args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			opts := delta.VacuumOptions{DryRun: dryRun, Force: force}
			if c.Flags().Changed("retain-hours") {
				opts.Retention = time.Duration(retainHours * float64(time.Hour))
				if opts.Retention == 0 {
					opts.Retention = time.Nanosecond // "0 hours" means delete everything unreferenced
				}
			}
			res, err := tbl.Vacuum(c.Context(), opts)
			if err != nil {
				return err
			}
			return g.emit(res, func() *table {
				t := &table{header: []string{"FILE"}}
				for _, f := range res.Files {
					t.add(f)
				}
				verb := "deleted"
				if res.DryRun {
					verb = "would delete"
				}
				t.rows = append(t.rows, []string{"# " + verb + " " + itoa(len(res.Files)) + " files, " + itoa64(res.Bytes) + " bytes"})
				return t
			})
		},
	}
	vacuum.Flags().Float64Var(&retainHours, "retain-hours", 0, "retention in hours (default: the table's delta.deletedFileRetentionDuration)")
	vacuum.Flags().BoolVar(&dryRun, "dry-run", false, "list the files that would be deleted")
	vacuum.Flags().BoolVar(&force, "force", false, "allow a retention shorter than the table's configured one")

	var version int64
	restore := &cobra.Command{
		Use:   "restore PATH --version N",
		Short: "Restore a Delta table's data to an earlier version",
		Args:  exactArgs(1, "PATH"),
		RunE: func(c *cobra.Command, args []string) error {
			if !c.Flags().Changed("version") {
				return usagef("--version is required")
			}
			tbl, closeFn, err := openDeltaPath(c.Context(), g.env, args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			res, err := tbl.Restore(c.Context(), version, delta.RestoreOptions{})
			if err != nil {
				return err
			}
			return g.emit(res, func() *table {
				t := &table{header: []string{"VERSION", "RESTORED_FILES", "REMOVED_FILES", "FILES_AFTER", "SIZE_AFTER"}}
				t.add(res.Version, res.FilesRestored, res.FilesRemoved, res.FilesAfter, res.TableSizeAfter)
				return t
			})
		},
	}
	restore.Flags().Int64Var(&version, "version", -1, "the version to restore")
	return []*cobra.Command{optimize, vacuum, restore}
}

func versionCell(committed bool, v int64) string {
	if !committed {
		return "-"
	}
	return itoa64(v)
}

func itoa(n int) string { return itoa64(int64(n)) }

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
