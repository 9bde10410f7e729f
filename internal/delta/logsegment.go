package delta

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// LogFileKind classifies a file in _delta_log/.
type LogFileKind int

// The kinds of log file.
const (
	KindCommit       LogFileKind = iota // N.json
	KindCheckpoint                      // N.checkpoint.parquet (classic, or V2 under the classic name)
	KindMultiPart                       // N.checkpoint.P.K.parquet
	KindV2Checkpoint                    // N.checkpoint.<uuid>.json|parquet
	KindCompaction                      // X.Y.compacted.json
)

// LogFile is a parsed _delta_log/ entry.
type LogFile struct {
	Key        string // full bucket key
	Version    int64  // commit or checkpoint version; X for compactions
	EndVersion int64  // Y for compactions
	Kind       LogFileKind
	Part       int // multi-part: 1-based part number
	NumParts   int // multi-part: number of parts
	Size       int64
	ModTime    time.Time
}

// IsParquet reports whether the file is a Parquet file.
func (f LogFile) IsParquet() bool { return strings.HasSuffix(f.Key, ".parquet") }

// LogSegment is the set of log files that together describe one version:
// at most one complete checkpoint (all its parts) and the contiguous run of
// commits after it up to Version.
type LogSegment struct {
	LogPrefix         string    // "<root>_delta_log/"
	Version           int64     // the version this segment describes
	CheckpointVersion int64     // -1 when replay starts at version 0
	Checkpoint        []LogFile // parts of the checkpoint in part order
	Commits           []LogFile // commits CheckpointVersion+1..Version, ascending
	Compactions       []LogFile // log compaction files inside the commit range (informational; replay uses Commits)
	LatestCommit      *LogFile  // commit file of Version, if present (for its timestamp)
}

// parseLogName parses the base name of a _delta_log/ file.
func parseLogName(name string) (LogFile, bool) {
	if len(name) < 20 {
		return LogFile{}, false
	}
	v, err := strconv.ParseInt(name[:20], 10, 64)
	if err != nil || v < 0 {
		return LogFile{}, false
	}
	rest := name[20:]
	f := LogFile{Version: v}
	switch {
	case rest == ".json":
		f.Kind = KindCommit
	case rest == ".checkpoint.parquet":
		f.Kind = KindCheckpoint
	case strings.HasPrefix(rest, ".checkpoint."):
		mid := strings.TrimPrefix(rest, ".checkpoint.")
		parts := strings.Split(mid, ".")
		switch {
		case len(parts) == 3 && parts[2] == "parquet" && len(parts[0]) == 10 && len(parts[1]) == 10:
			p, err1 := strconv.Atoi(parts[0])
			n, err2 := strconv.Atoi(parts[1])
			if err1 != nil || err2 != nil || p < 1 || n < 1 || p > n {
				return LogFile{}, false
			}
			f.Kind, f.Part, f.NumParts = KindMultiPart, p, n
		case len(parts) == 2 && (parts[1] == "json" || parts[1] == "parquet") && parts[0] != "":
			f.Kind = KindV2Checkpoint
		default:
			return LogFile{}, false
		}
	case strings.HasSuffix(rest, ".compacted.json") && len(rest) == 1+20+len(".compacted.json"):
		end, err := strconv.ParseInt(rest[1:21], 10, 64)
		if err != nil || end < v {
			return LogFile{}, false
		}
		f.Kind, f.EndVersion = KindCompaction, end
	default:
		return LogFile{}, false
	}
	return f, true
}

// lastCheckpoint is the content of _delta_log/_last_checkpoint.
type lastCheckpoint struct {
	Version int64 `json:"version"`
	Size    int64 `json:"size"`
	Parts   *int  `json:"parts,omitempty"`
}

// readLastCheckpoint returns the hinted checkpoint version, or -1 when the
// file is absent, empty or corrupt (the caller then lists the whole log).
func (t *Table) readLastCheckpoint(ctx context.Context) int64 {
	rc, err := t.bucket.Get(ctx, t.logPrefix()+"_last_checkpoint", nil)
	if err != nil {
		return -1
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return -1
	}
	var lc lastCheckpoint
	if err := json.Unmarshal(b, &lc); err != nil || lc.Version < 0 {
		return -1
	}
	return lc.Version
}

// listLog lists _delta_log/ entries (not sub-directories) sorting after
// startAfter (a full key, or "" for all).
func (t *Table) listLog(ctx context.Context, startAfter string) ([]LogFile, error) {
	prefix := t.logPrefix()
	attrs, err := t.bucket.List(ctx, blob.ListOptions{Prefix: prefix, StartAfter: startAfter})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	out := make([]LogFile, 0, len(attrs))
	for _, a := range attrs {
		name := strings.TrimPrefix(a.Key, prefix)
		if strings.Contains(name, "/") {
			continue
		}
		f, ok := parseLogName(name)
		if !ok {
			continue
		}
		f.Key, f.Size, f.ModTime = a.Key, a.Size, a.ModTime
		out = append(out, f)
	}
	return out, nil
}

// LogSegment builds the segment for version (-1 = latest). Errors:
// errs.NotFound DELTA_TABLE_NOT_FOUND when there is no log;
// errs.NotFound DELTA_VERSION_NOT_FOUND when version is not reconstructable;
// errs.FailedPrecondition DELTA_VERSIONS_NOT_CONTIGUOUS for gaps.
func (t *Table) LogSegment(ctx context.Context, version int64) (*LogSegment, error) {
	hint := t.readLastCheckpoint(ctx)
	if hint >= 0 && (version < 0 || version >= hint) {
		files, err := t.listLog(ctx, t.logPrefix()+fmt.Sprintf("%020d", hint))
		if err != nil {
			return nil, err
		}
		seg, err := t.segmentFrom(files, version)
		if err == nil && seg.CheckpointVersion >= hint {
			return seg, nil
		}
		// The hint is stale or names an incomplete checkpoint: list everything.
	}
	files, err := t.listLog(ctx, "")
	if err != nil {
		return nil, err
	}
	return t.segmentFrom(files, version)
}

// segmentFrom picks the checkpoint and commits for version from a sorted
// listing.
func (t *Table) segmentFrom(files []LogFile, version int64) (*LogSegment, error) {
	prefix := t.logPrefix()
	if len(files) == 0 {
		return nil, errs.E(errs.NotFound, ReasonTableNotFound, "%s is not a Delta table: no commit or checkpoint files in %s", tableName(t.root), prefixOrRoot(prefix))
	}
	var commits []LogFile
	cps := map[int64][][]LogFile{} // version -> candidate complete checkpoints
	multi := map[string][]LogFile{}
	var compactions []LogFile
	maxVersion := int64(-1)
	for _, f := range files {
		if version >= 0 && f.Version > version {
			continue
		}
		switch f.Kind {
		case KindCommit:
			commits = append(commits, f)
		case KindCheckpoint, KindV2Checkpoint:
			cps[f.Version] = append(cps[f.Version], []LogFile{f})
		case KindMultiPart:
			k := fmt.Sprintf("%d/%d", f.Version, f.NumParts)
			multi[k] = append(multi[k], f)
		case KindCompaction:
			if version < 0 || f.EndVersion <= version {
				compactions = append(compactions, f)
			}
			continue
		}
		if f.Version > maxVersion {
			maxVersion = f.Version
		}
	}
	for _, parts := range multi {
		sort.Slice(parts, func(i, j int) bool { return parts[i].Part < parts[j].Part })
		n := parts[0].NumParts
		seen := map[int]bool{}
		var uniq []LogFile
		for _, p := range parts {
			if !seen[p.Part] {
				seen[p.Part] = true
				uniq = append(uniq, p)
			}
		}
		if len(uniq) == n {
			cps[parts[0].Version] = append(cps[parts[0].Version], uniq)
		}
	}
	if maxVersion < 0 {
		if version >= 0 {
			return nil, errs.E(errs.NotFound, ReasonVersionNotFound, "version %d of %s does not exist: the log has no commit or checkpoint at or before it", version, prefixOrRoot(prefix))
		}
		return nil, errs.E(errs.NotFound, ReasonTableNotFound, "%s is not a Delta table: no commit or checkpoint files in %s", tableName(t.root), prefixOrRoot(prefix))
	}
	target := version
	if target < 0 {
		target = maxVersion
	} else if target > maxVersion {
		return nil, errs.E(errs.NotFound, ReasonVersionNotFound, "version %d of %s does not exist: the latest version is %d", version, prefixOrRoot(prefix), maxVersion)
	}
	seg := &LogSegment{LogPrefix: prefix, Version: target, CheckpointVersion: -1}
	var best int64 = -1
	for v := range cps {
		if v <= target && v > best {
			best = v
		}
	}
	if best >= 0 {
		cands := cps[best]
		// Prefer a single-file checkpoint (classic or V2), then the multi-part
		// set with the fewest parts; all complete candidates are equivalent.
		sort.SliceStable(cands, func(i, j int) bool { return len(cands[i]) < len(cands[j]) })
		seg.CheckpointVersion = best
		seg.Checkpoint = cands[0]
	}
	next := seg.CheckpointVersion + 1
	for _, c := range commits {
		if c.Version == target {
			cc := c
			seg.LatestCommit = &cc
		}
		if c.Version <= seg.CheckpointVersion {
			continue
		}
		if c.Version != next {
			if c.Version < next { // duplicate listing entry
				continue
			}
			return nil, errs.E(errs.FailedPrecondition, ReasonVersionsNotContiguous,
				"versions in %s are not contiguous: expected commit %020d.json after version %d but found %020d.json",
				prefixOrRoot(prefix), next, next-1, c.Version)
		}
		seg.Commits = append(seg.Commits, c)
		next++
	}
	if next-1 != target {
		if seg.CheckpointVersion < 0 && len(seg.Commits) == 0 && len(commits) > 0 {
			return nil, errs.E(errs.FailedPrecondition, ReasonVersionsNotContiguous,
				"versions in %s are not contiguous: the log starts at version %d without a checkpoint", prefixOrRoot(prefix), commits[0].Version)
		}
		return nil, errs.E(errs.NotFound, ReasonVersionNotFound, "version %d of %s cannot be reconstructed: commit %020d.json is missing", target, prefixOrRoot(prefix), next)
	}
	for _, c := range compactions {
		if c.Version > seg.CheckpointVersion && c.EndVersion <= target {
			seg.Compactions = append(seg.Compactions, c)
		}
	}
	return seg, nil
}

func prefixOrRoot(p string) string {
	if p == "" {
		return "the bucket root"
	}
	return p
}

func tableName(root string) string {
	if root == "" {
		return "the table root"
	}
	return strings.TrimSuffix(root, "/")
}
