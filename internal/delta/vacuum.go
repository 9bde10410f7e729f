package delta

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// ReasonRetentionTooShort: VACUUM was asked for a retention below the
// table's delta.deletedFileRetentionDuration (at least 7 days by default)
// without Force (errs.FailedPrecondition).
const ReasonRetentionTooShort = "DELTA_VACUUM_RETENTION_TOO_SHORT"

const defaultDeletedFileRetention = 7 * 24 * time.Hour

// retentionOf parses a Delta interval property ("interval 7 days",
// "interval 1 weeks", "interval 12 hours", "168 hours").
func retentionOf(conf map[string]string, key string, def time.Duration) (time.Duration, error) {
	v, ok := conf[key]
	if !ok || strings.TrimSpace(v) == "" {
		return def, nil
	}
	d, err := ParseInterval(v)
	if err != nil {
		return 0, errs.E(errs.Invalid, ReasonInvalidArgument, "table property %s=%q: %v", key, v, err)
	}
	return d, nil
}

// ParseInterval parses the interval syntax of Delta table properties:
// optional "interval", then one or more "<n> <unit>" pairs with units
// week(s), day(s), hour(s), minute(s), second(s), millisecond(s),
// microsecond(s).
func ParseInterval(s string) (time.Duration, error) {
	f := strings.Fields(strings.ToLower(strings.TrimSpace(s)))
	if len(f) > 0 && f[0] == "interval" {
		f = f[1:]
	}
	if len(f) == 0 || len(f)%2 != 0 {
		return 0, fmt.Errorf("want \"interval <number> <unit>\"")
	}
	var total time.Duration
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", f[i])
		}
		var unit time.Duration
		switch strings.TrimSuffix(f[i+1], "s") {
		case "week":
			unit = 7 * 24 * time.Hour
		case "day":
			unit = 24 * time.Hour
		case "hour":
			unit = time.Hour
		case "minute":
			unit = time.Minute
		case "second":
			unit = time.Second
		case "millisecond":
			unit = time.Millisecond
		case "microsecond":
			unit = time.Microsecond
		default:
			return 0, fmt.Errorf("unknown interval unit %q (accepted: weeks, days, hours, minutes, seconds, milliseconds, microseconds)", f[i+1])
		}
		total += time.Duration(n) * unit
	}
	return total, nil
}

// VacuumOptions configure Vacuum.
type VacuumOptions struct {
	// Retention keeps files removed less than this long ago (0 = the
	// table's delta.deletedFileRetentionDuration, default 7 days).
	Retention time.Duration
	// DryRun lists the files that would be deleted without deleting them.
	DryRun bool
	// Force allows a retention shorter than the table's configured one.
	Force bool
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
}

// VacuumResult lists what Vacuum deleted (or would delete).
type VacuumResult struct {
	// Files are bucket keys relative to the table root, sorted.
	Files []string
	// Bytes is their total size.
	Bytes int64
	// DryRun echoes the option.
	DryRun bool
}

// Vacuum deletes files under the table root that no version within the
// retention window references: data files, change data files and deletion
// vector files not referenced by the latest snapshot, not tombstoned within
// the retention window, and older than it. _delta_log/, hidden entries
// (names starting with "_" or ".", except partition directories) are never
// touched. Errors: errs.FailedPrecondition DELTA_VACUUM_RETENTION_TOO_SHORT
// for a retention below the configured one without Force; those of Latest;
// storage errors.
func (t *Table) Vacuum(ctx context.Context, opts VacuumOptions) (VacuumResult, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	snap, err := t.Latest(ctx)
	if err != nil {
		return VacuumResult{}, err
	}
	conf := snap.Configuration()
	configured, err := retentionOf(conf, "delta.deletedFileRetentionDuration", defaultDeletedFileRetention)
	if err != nil {
		return VacuumResult{}, err
	}
	retention := opts.Retention
	if retention == 0 {
		retention = configured
	}
	if retention < 0 {
		return VacuumResult{}, errs.E(errs.Invalid, ReasonInvalidArgument, "retention %s is negative", retention)
	}
	if retention < configured && !opts.Force {
		return VacuumResult{}, errs.E(errs.FailedPrecondition, ReasonRetentionTooShort,
			"refusing to vacuum with a retention of %s: it is shorter than the table's delta.deletedFileRetentionDuration (%s), and files still needed by readers of older versions or by running writers could be deleted; pass Force to override", retention, configured)
	}
	if p := snap.Protocol(); p.SupportsWriterFeature("vacuumProtocolCheck") {
		if err := checkWritable(p, snap.Metadata(), snap.Schema()); err != nil {
			return VacuumResult{}, err
		}
	}
	now := opts.Clock()
	cutoff := now.Add(-retention)
	keep := map[string]bool{}
	addKeep := func(logPath string, dv *DeletionVectorDescriptor) {
		if p, err := DecodePath(logPath); err == nil {
			keep[p] = true
		}
		if dv != nil && dv.StorageType != "i" {
			if k, err := t.dvFileKey(dv); err == nil {
				keep[strings.TrimPrefix(k, t.root)] = true
			}
		}
	}
	for _, a := range snap.Files() {
		addKeep(a.Path, a.DeletionVector)
	}
	for _, r := range snap.Tombstones() {
		if r.DeletionTimestamp == nil || time.UnixMilli(*r.DeletionTimestamp).After(cutoff) {
			addKeep(r.Path, r.DeletionVector)
		}
	}
	// cdc files of commits still inside the window are kept through the
	// modification-time check below.
	objs, err := t.bucket.List(ctx, blob.ListOptions{Prefix: t.root})
	if err != nil {
		return VacuumResult{}, fmt.Errorf("list %s: %w", prefixOrRoot(t.root), err)
	}
	res := VacuumResult{DryRun: opts.DryRun}
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, t.root)
		if hiddenPath(rel) || keep[rel] {
			continue
		}
		if !o.ModTime.IsZero() && o.ModTime.After(cutoff) {
			continue
		}
		res.Files = append(res.Files, rel)
		res.Bytes += o.Size
	}
	sort.Strings(res.Files)
	if opts.DryRun {
		return res, nil
	}
	for _, rel := range res.Files {
		if err := t.bucket.Delete(ctx, t.root+rel); err != nil {
			return res, fmt.Errorf("vacuum delete %s: %w", rel, err)
		}
	}
	return res, nil
}

// hiddenPath reports whether a relative path is outside VACUUM's reach:
// any segment starting with "_" or "." except partition directories
// ("_col=value") and _change_data/, which holds cdc files.
func hiddenPath(rel string) bool {
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		if i == 0 && s == "_change_data" {
			continue
		}
		if strings.HasPrefix(s, "_") || strings.HasPrefix(s, ".") {
			if i < len(segs)-1 && strings.Contains(s, "=") {
				continue
			}
			return true
		}
	}
	return false
}
