package delta

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/lakebox/lakebox/internal/errs"
)

// Snapshot is the state of a table at one version: its protocol, metadata
// and live files after log replay. A Snapshot is immutable and safe for
// concurrent use.
type Snapshot struct {
	table    *Table
	segment  *LogSegment
	protocol *Protocol
	metadata *Metadata
	schema   *StructType

	files      []*Add    // live files, sorted by path
	tombstones []*Remove // removes not shadowed by a later add, sorted by path
	txns       map[string]Txn
	domains    map[string]DomainMetadata
	timestamp  time.Time
	latestInfo *CommitInfo
}

// SupportedReaderFeatures lists the reader table features this package
// implements.
var supportedReaderFeatures = map[string]bool{
	"columnMapping":        true,
	"deletionVectors":      true,
	"timestampNtz":         true,
	"v2Checkpoint":         true,
	"typeWidening":         true,
	"typeWidening-preview": true,
	"vacuumProtocolCheck":  true,
}

// SupportedReaderFeatures returns the reader table features this package can
// read, sorted.
func SupportedReaderFeatures() []string { return sortedKeys(supportedReaderFeatures) }

// CheckReadable refuses protocols this package cannot read: reader versions
// other than 1–3 and, for version 3, unknown reader features. Errors:
// errs.Unimplemented with reason DELTA_INVALID_TABLE_VERSION or
// DELTA_UNSUPPORTED_FEATURES_FOR_READ.
func (p *Protocol) CheckReadable() error {
	if p.MinReaderVersion < 1 || p.MinReaderVersion > 3 {
		return errs.E(errs.Unimplemented, ReasonUnsupportedReaderVersion,
			"unsupported Delta reader version %d (this reader supports 1, 2 and 3); the table needs a newer reader", p.MinReaderVersion)
	}
	if p.MinWriterVersion < 1 || p.MinWriterVersion > 7 {
		return errs.E(errs.Unimplemented, ReasonUnsupportedReaderVersion,
			"unsupported Delta writer version %d (known versions are 1 to 7)", p.MinWriterVersion)
	}
	if p.MinReaderVersion == 3 {
		var bad []string
		for _, f := range p.ReaderFeatures {
			if !supportedReaderFeatures[f] {
				bad = append(bad, f)
			}
		}
		if len(bad) > 0 {
			return errs.E(errs.Unimplemented, ReasonUnsupportedFeature,
				"the table requires reader table features this reader does not support: %v (supported: %v)", bad, SupportedReaderFeatures())
		}
	}
	return nil
}

// Latest loads the latest snapshot. See SnapshotAt for errors.
//
// The table remembers the snapshot it returned last and extends it by the
// newer commits when it can (Snapshot.Update), so repeated calls read only
// what changed.
func (t *Table) Latest(ctx context.Context) (*Snapshot, error) { return t.latest(ctx) }

// SnapshotAt loads the snapshot at version (-1 = latest). Errors:
// errs.NotFound (DELTA_TABLE_NOT_FOUND, DELTA_VERSION_NOT_FOUND,
// DELTA_FILE_NOT_FOUND), errs.FailedPrecondition
// (DELTA_VERSIONS_NOT_CONTIGUOUS, missing metadata or protocol),
// errs.Invalid (DELTA_CORRUPT_LOG, DELTA_INVALID_SCHEMA), errs.Unimplemented
// (unsupported protocol).
func (t *Table) SnapshotAt(ctx context.Context, version int64) (*Snapshot, error) {
	if version < 0 {
		return t.latest(ctx)
	}
	seg, err := t.LogSegment(ctx, version)
	if err != nil {
		return nil, err
	}
	return t.replay(ctx, seg)
}

// commitActions is the parsed content of one commit.
type commitActions struct {
	file    LogFile
	actions []Action
}

// readCommits fetches and parses commit files with bounded parallelism.
func (t *Table) readCommits(ctx context.Context, files []LogFile) ([]commitActions, error) {
	out := make([]commitActions, len(files))
	errsOut := make([]error, len(files))
	const workers = 8
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			acts, err := t.readActionsFile(ctx, files[i].Key)
			out[i] = commitActions{file: files[i], actions: acts}
			errsOut[i] = err
		}(i)
	}
	wg.Wait()
	for _, err := range errsOut {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readActionsFile reads and parses a JSON log file, naming it in errors.
func (t *Table) readActionsFile(ctx context.Context, key string) ([]Action, error) {
	b, err := t.readObject(ctx, key)
	if err != nil {
		return nil, err
	}
	acts, err := ParseActions(bytes.NewReader(b))
	if err != nil {
		if e := errs.As(err); e != nil {
			return nil, errs.Wrap(e.Kind, e.Reason, e.Err, "corrupt log file %s: %s", key, e.Msg)
		}
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return acts, nil
}

// fileKey is the reconciliation key of a file action.
func fileKey(path string, dv *DeletionVectorDescriptor) string {
	return CanonicalPath(path) + "\x00" + dv.UniqueID()
}

func (t *Table) replay(ctx context.Context, seg *LogSegment) (*Snapshot, error) {
	commits, err := t.readCommits(ctx, seg.Commits)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{table: t, segment: seg, txns: map[string]Txn{}, domains: map[string]DomainMetadata{}}
	seen := map[string]bool{}
	domainSeen := map[string]bool{}
	var live []*Add
	var tomb []*Remove
	apply := func(actions []Action, fromCheckpoint bool) {
		// Within one commit, adds win over removes of the same key; the
		// newest commit wins across commits (replay runs newest first).
		var keys []string
		for i := range actions {
			a := &actions[i]
			switch {
			case a.Add != nil:
				k := fileKey(a.Add.Path, a.Add.DeletionVector)
				if !seen[k] {
					live = append(live, a.Add)
				}
				keys = append(keys, k)
			case a.Protocol != nil:
				if s.protocol == nil {
					s.protocol = a.Protocol
				}
			case a.MetaData != nil:
				if s.metadata == nil {
					s.metadata = a.MetaData
				}
			case a.Txn != nil:
				if _, ok := s.txns[a.Txn.AppID]; !ok {
					s.txns[a.Txn.AppID] = *a.Txn
				}
			case a.DomainMetadata != nil:
				d := a.DomainMetadata
				if !domainSeen[d.Domain] {
					domainSeen[d.Domain] = true
					if !d.Removed {
						s.domains[d.Domain] = *d
					}
				}
			}
		}
		for i := range actions {
			if r := actions[i].Remove; r != nil {
				k := fileKey(r.Path, r.DeletionVector)
				if !seen[k] {
					if !containsKey(keys, k) {
						tomb = append(tomb, r)
					}
				}
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			seen[k] = true
		}
		_ = fromCheckpoint
	}
	for i := len(commits) - 1; i >= 0; i-- {
		apply(commits[i].actions, false)
		if i == len(commits)-1 {
			for j := range commits[i].actions {
				if ci := commits[i].actions[j].CommitInfo; ci != nil {
					s.latestInfo = ci
					break
				}
			}
		}
	}
	if s.latestInfo == nil && len(commits) == 0 && seg.LatestCommit != nil {
		// The version is a checkpoint's: its commitInfo (and in-commit
		// timestamp) is only in the commit file itself.
		acts, err := t.readActionsFile(ctx, seg.LatestCommit.Key)
		if err != nil {
			return nil, err
		}
		for j := range acts {
			if ci := acts[j].CommitInfo; ci != nil {
				s.latestInfo = ci
				break
			}
		}
	}
	if len(seg.Checkpoint) > 0 {
		acts, err := t.readCheckpoint(ctx, seg)
		if err != nil {
			return nil, err
		}
		apply(acts, true)
	}
	where := fmt.Sprintf("%s at version %d", prefixOrRoot(seg.LogPrefix), seg.Version)
	if s.protocol == nil {
		return nil, errs.E(errs.FailedPrecondition, ReasonMissingProtocol, "cannot load %s: log replay found no protocol action", where)
	}
	if s.metadata == nil {
		return nil, errs.E(errs.FailedPrecondition, ReasonMissingMetadata, "cannot load %s: log replay found no metaData action", where)
	}
	if err := s.protocol.CheckReadable(); err != nil {
		e := errs.As(err)
		return nil, errs.E(e.Kind, e.Reason, "cannot read %s: %s", where, e.Msg)
	}
	if s.schema, err = ParseSchema(s.metadata.SchemaString); err != nil {
		e := errs.As(err)
		return nil, errs.Wrap(e.Kind, e.Reason, e.Err, "metaData of %s: %s", where, e.Msg)
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Path < live[j].Path })
	sort.Slice(tomb, func(i, j int) bool { return tomb[i].Path < tomb[j].Path })
	s.files, s.tombstones = live, tomb
	s.timestamp = s.commitTimestamp(seg.LatestCommit, s.latestInfo)
	return s, nil
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// commitTimestamp is the in-commit timestamp when enabled, else the commit
// file's modification time.
func (s *Snapshot) commitTimestamp(f *LogFile, ci *CommitInfo) time.Time {
	if s.InCommitTimestampsEnabled() && ci != nil && ci.InCommitTimestamp != nil {
		return time.UnixMilli(*ci.InCommitTimestamp).UTC()
	}
	if f != nil {
		return f.ModTime
	}
	return time.Time{}
}

// Table returns the table the snapshot belongs to.
func (s *Snapshot) Table() *Table { return s.table }

// Version returns the snapshot's version.
func (s *Snapshot) Version() int64 { return s.segment.Version }

// Segment returns the log segment the snapshot was replayed from.
func (s *Snapshot) Segment() *LogSegment { return s.segment }

// Protocol returns the protocol in force.
func (s *Snapshot) Protocol() *Protocol { return s.protocol }

// Metadata returns the metaData action in force.
func (s *Snapshot) Metadata() *Metadata { return s.metadata }

// Schema returns the parsed table schema (logical names).
func (s *Snapshot) Schema() *StructType { return s.schema }

// PartitionColumns returns the logical partition column names.
func (s *Snapshot) PartitionColumns() []string { return s.metadata.PartitionColumns }

// Configuration returns the table properties (never nil).
func (s *Snapshot) Configuration() map[string]string {
	if s.metadata.Configuration == nil {
		return map[string]string{}
	}
	return s.metadata.Configuration
}

// ColumnMappingMode returns the table's delta.columnMapping.mode.
func (s *Snapshot) ColumnMappingMode() ColumnMappingMode {
	switch s.Configuration()["delta.columnMapping.mode"] {
	case "name":
		return ColumnMappingName
	case "id":
		return ColumnMappingID
	}
	return ColumnMappingNone
}

// InCommitTimestampsEnabled reports whether delta.enableInCommitTimestamps
// is on.
func (s *Snapshot) InCommitTimestampsEnabled() bool {
	b, _ := strconv.ParseBool(s.Configuration()["delta.enableInCommitTimestamps"])
	return b
}

// Timestamp returns the commit timestamp of the snapshot's version (the
// in-commit timestamp when enabled, else the commit file's modification
// time; zero if the commit file is gone).
func (s *Snapshot) Timestamp() time.Time { return s.timestamp }

// Files returns the live add actions sorted by path. The slice must not be
// modified.
func (s *Snapshot) Files() []*Add { return s.files }

// Tombstones returns remove actions not shadowed by a later add, sorted by
// path (VACUUM uses them together with deletionTimestamp).
func (s *Snapshot) Tombstones() []*Remove { return s.tombstones }

// AppTransactionVersion returns the last version committed by appID.
func (s *Snapshot) AppTransactionVersion(appID string) (int64, bool) {
	t, ok := s.txns[appID]
	return t.Version, ok
}

// Transactions returns all txn actions by appId.
func (s *Snapshot) Transactions() map[string]Txn { return s.txns }

// DomainMetadata returns the live (not removed) domain metadata by domain.
func (s *Snapshot) DomainMetadata() map[string]DomainMetadata { return s.domains }

// LatestCommitInfo returns the commitInfo of the snapshot's own commit, or
// nil if that commit had none (or its file is gone).
func (s *Snapshot) LatestCommitInfo() *CommitInfo { return s.latestInfo }
