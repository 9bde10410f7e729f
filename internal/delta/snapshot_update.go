package delta

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// snapshotCache remembers a table's most recent snapshot so that Latest can
// extend it by the commits that follow instead of replaying the log from the
// last checkpoint on every call. Writers that commit often to one table
// (the audit and inference-log batchers, streaming jobs) otherwise re-read the
// checkpoint before every commit.
type snapshotCache struct {
	mu   sync.Mutex
	snap *Snapshot
}

func (c *snapshotCache) get() *Snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap
}

func (c *snapshotCache) put(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap == nil || s.Version() > c.snap.Version() {
		c.snap = s
	}
}

// latest returns the latest snapshot, from the cached one when it can be
// extended, and caches the result.
func (t *Table) latest(ctx context.Context) (*Snapshot, error) {
	if cached := t.cache.get(); cached != nil {
		s, err := cached.Update(ctx)
		if err == nil {
			t.cache.put(s)
			return s, nil
		}
	}
	seg, err := t.LogSegment(ctx, -1)
	if err != nil {
		return nil, err
	}
	s, err := t.replay(ctx, seg)
	if err != nil {
		return nil, err
	}
	t.cache.put(s)
	return s, nil
}

// Update returns the snapshot of the table's latest version, built from s by
// applying only the commits after s's version (s itself when there are
// none). The result equals a full replay at that version. When the commits
// after s cannot be applied incrementally (a gap in the listing, a commit
// file missing because the log was cleaned up, a protocol the reader does not
// support), Update returns an error and callers fall back to a full load.
func (s *Snapshot) Update(ctx context.Context) (*Snapshot, error) {
	t := s.table
	files, err := t.listLog(ctx, t.logPrefix()+fmt.Sprintf("%020d.json", s.Version()))
	if err != nil {
		return nil, err
	}
	var commits []LogFile
	for _, f := range files {
		if f.Kind == KindCommit && f.Version > s.Version() {
			commits = append(commits, f)
		}
	}
	if len(commits) == 0 {
		return s, nil
	}
	for i, f := range commits {
		if f.Version != s.Version()+int64(i)+1 {
			return nil, fmt.Errorf("log after version %d is not contiguous at %d", s.Version(), f.Version)
		}
	}
	read, err := t.readCommits(ctx, commits)
	if err != nil {
		return nil, err
	}
	return s.apply(read)
}

// apply builds the snapshot that follows s after the given commits (oldest
// first, contiguous after s).
func (s *Snapshot) apply(commits []commitActions) (*Snapshot, error) {
	live := make(map[string]*Add, len(s.files))
	for _, a := range s.files {
		live[fileKey(a.Path, a.DeletionVector)] = a
	}
	tomb := make(map[string]*Remove, len(s.tombstones))
	for _, r := range s.tombstones {
		tomb[fileKey(r.Path, r.DeletionVector)] = r
	}
	n := &Snapshot{table: s.table, protocol: s.protocol, metadata: s.metadata, schema: s.schema,
		txns: make(map[string]Txn, len(s.txns)), domains: make(map[string]DomainMetadata, len(s.domains))}
	for k, v := range s.txns {
		n.txns[k] = v
	}
	for k, v := range s.domains {
		n.domains[k] = v
	}
	for _, c := range commits {
		// Within a commit an add wins over a remove of the same file, so
		// removes are applied first.
		for i := range c.actions {
			if r := c.actions[i].Remove; r != nil {
				k := fileKey(r.Path, r.DeletionVector)
				delete(live, k)
				tomb[k] = r
			}
		}
		n.latestInfo = nil
		for i := range c.actions {
			a := &c.actions[i]
			switch {
			case a.Add != nil:
				k := fileKey(a.Add.Path, a.Add.DeletionVector)
				live[k] = a.Add
				delete(tomb, k)
			case a.Protocol != nil:
				n.protocol = a.Protocol
			case a.MetaData != nil:
				n.metadata = a.MetaData
			case a.Txn != nil:
				n.txns[a.Txn.AppID] = *a.Txn
			case a.DomainMetadata != nil:
				if a.DomainMetadata.Removed {
					delete(n.domains, a.DomainMetadata.Domain)
				} else {
					n.domains[a.DomainMetadata.Domain] = *a.DomainMetadata
				}
			case a.CommitInfo != nil:
				if n.latestInfo == nil {
					n.latestInfo = a.CommitInfo
				}
			}
		}
	}
	last := commits[len(commits)-1].file
	seg := *s.segment
	seg.Version = last.Version
	seg.Commits = append(append([]LogFile(nil), s.segment.Commits...), commitFiles(commits)...)
	seg.Compactions = nil
	seg.LatestCommit = &last
	n.segment = &seg
	where := fmt.Sprintf("%s at version %d", prefixOrRoot(seg.LogPrefix), seg.Version)
	if err := n.protocol.CheckReadable(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", where, err)
	}
	if n.metadata != s.metadata {
		schema, err := ParseSchema(n.metadata.SchemaString)
		if err != nil {
			return nil, fmt.Errorf("metaData of %s: %w", where, err)
		}
		n.schema = schema
	}
	// nil when empty, as replay leaves them.
	n.files, n.tombstones = nil, nil
	for _, a := range live {
		n.files = append(n.files, a)
	}
	for _, r := range tomb {
		n.tombstones = append(n.tombstones, r)
	}
	sort.Slice(n.files, func(i, j int) bool { return n.files[i].Path < n.files[j].Path })
	sort.Slice(n.tombstones, func(i, j int) bool { return n.tombstones[i].Path < n.tombstones[j].Path })
	n.timestamp = n.commitTimestamp(&last, n.latestInfo)
	return n, nil
}

func commitFiles(cs []commitActions) []LogFile {
	out := make([]LogFile, len(cs))
	for i, c := range cs {
		out[i] = c.file
	}
	return out
}
