package delta

import (
	"context"
	"strconv"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// CommitEntry is one commit of the table history.
type CommitEntry struct {
	Version   int64
	Timestamp time.Time   // in-commit timestamp when present and enabled, else file modification time
	Info      *CommitInfo // nil when the commit has no commitInfo
	Key       string
}

// History returns the commits still in the log, newest first (at most limit
// when limit > 0). Errors: those of LogSegment and of reading commit files.
func (t *Table) History(ctx context.Context, limit int) ([]CommitEntry, error) {
	latest, err := t.Latest(ctx)
	if err != nil {
		return nil, err
	}
	files, err := t.listLog(ctx, "")
	if err != nil {
		return nil, err
	}
	var commits []LogFile
	for _, f := range files {
		if f.Kind == KindCommit && f.Version <= latest.Version() {
			commits = append(commits, f)
		}
	}
	var out []CommitEntry
	for i := len(commits) - 1; i >= 0; i-- {
		if limit > 0 && len(out) >= limit {
			break
		}
		acts, err := t.readActionsFile(ctx, commits[i].Key)
		if err != nil {
			return nil, err
		}
		e := CommitEntry{Version: commits[i].Version, Timestamp: commits[i].ModTime, Key: commits[i].Key}
		for _, a := range acts {
			if a.CommitInfo != nil {
				e.Info = a.CommitInfo
				if a.CommitInfo.InCommitTimestamp != nil && latest.InCommitTimestampsEnabled() {
					e.Timestamp = time.UnixMilli(*a.CommitInfo.InCommitTimestamp).UTC()
				}
				break
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// SnapshotAtTimestamp loads the latest version committed at or before ts.
// Commit times are in-commit timestamps for versions at or after
// delta.inCommitTimestampEnablementVersion when delta.enableInCommitTimestamps
// is on, else commit file modification times. Errors: errs.NotFound
// DELTA_VERSION_NOT_FOUND when ts is before the earliest available commit,
// plus those of SnapshotAt.
func (t *Table) SnapshotAtTimestamp(ctx context.Context, ts time.Time) (*Snapshot, error) {
	latest, err := t.Latest(ctx)
	if err != nil {
		return nil, err
	}
	files, err := t.listLog(ctx, "")
	if err != nil {
		return nil, err
	}
	ictFrom := int64(-1)
	if latest.InCommitTimestampsEnabled() {
		ictFrom = 0
		if v, err := strconv.ParseInt(latest.Configuration()["delta.inCommitTimestampEnablementVersion"], 10, 64); err == nil {
			ictFrom = v
		}
	}
	best := int64(-1)
	var earliest time.Time
	for _, f := range files {
		if f.Kind != KindCommit || f.Version > latest.Version() {
			continue
		}
		ct := f.ModTime
		if ictFrom >= 0 && f.Version >= ictFrom {
			acts, err := t.readActionsFile(ctx, f.Key)
			if err != nil {
				return nil, err
			}
			for _, a := range acts {
				if a.CommitInfo != nil && a.CommitInfo.InCommitTimestamp != nil {
					ct = time.UnixMilli(*a.CommitInfo.InCommitTimestamp)
				}
			}
		}
		if earliest.IsZero() || ct.Before(earliest) {
			earliest = ct
		}
		if !ct.After(ts) && f.Version > best {
			best = f.Version
		}
	}
	if best < 0 {
		return nil, errs.E(errs.NotFound, ReasonVersionNotFound, "no version of %s was committed at or before %s (earliest commit: %s)",
			prefixOrRoot(t.logPrefix()), ts.UTC().Format(time.RFC3339Nano), earliest.UTC().Format(time.RFC3339Nano))
	}
	return t.SnapshotAt(ctx, best)
}
