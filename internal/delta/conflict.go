package delta

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// checkConflict applies Delta's conflict rules (as Spark's ConflictChecker)
// to one winning commit at version v that this transaction must be
// rebased over:
//
//   - a protocol or metadata change by the winner conflicts with everything;
//   - if this transaction changes metadata, any data change by the winner
//     conflicts;
//   - txn actions for the same appId, or domainMetadata for the same
//     domain, conflict;
//   - files the winner added with dataChange that match what this
//     transaction read (its read predicates, or the whole table) conflict
//     (DELTA_CONCURRENT_APPEND); under WriteSerializable, the default
//     isolation level, files of a blind append are exempt;
//   - files the winner removed that this transaction read conflict
//     (DELTA_CONCURRENT_DELETE_READ), or, when it read the whole table, any
//     data-changing removal; a file both remove is DELTA_CONCURRENT_DELETE_DELETE.
//
// A blind append has read nothing and so only conflicts on protocol,
// metadata and app ids.
func (t *Transaction) checkConflict(v int64, acts []Action) error {
	var adds []*Add
	var removes []*Remove
	winnerBlind := false
	op := ""
	for i := range acts {
		a := &acts[i]
		switch {
		case a.Protocol != nil:
			return errs.E(errs.Conflict, ReasonProtocolChanged,
				"the protocol version of the table was changed by a concurrent update (version %d, read version %d); please try the operation again", v, t.ReadVersion())
		case a.MetaData != nil:
			return errs.E(errs.Conflict, ReasonMetadataChanged,
				"the metadata of the table was changed by a concurrent update (version %d, read version %d); please try the operation again", v, t.ReadVersion())
		case a.Txn != nil:
			for _, mine := range t.txns {
				if mine.AppID == a.Txn.AppID {
					return errs.E(errs.Conflict, ReasonConcurrentTransaction,
						"application transaction %q was committed concurrently (version %d, transaction version %d)", a.Txn.AppID, v, a.Txn.Version)
				}
			}
		case a.DomainMetadata != nil:
			for _, mine := range t.domains {
				if mine.Domain == a.DomainMetadata.Domain {
					return errs.E(errs.Conflict, ReasonConcurrentModification,
						"domain metadata %q was changed concurrently (version %d)", mine.Domain, v)
				}
			}
		case a.Add != nil:
			adds = append(adds, a.Add)
		case a.Remove != nil:
			removes = append(removes, a.Remove)
		case a.CommitInfo != nil:
			op = a.CommitInfo.Operation
			if raw, ok := a.CommitInfo.Other["isBlindAppend"]; ok {
				_ = json.Unmarshal(raw, &winnerBlind)
			}
		}
	}
	winner := fmt.Sprintf("version %d", v)
	if op != "" {
		winner = fmt.Sprintf("version %d (%s)", v, op)
	}
	dataChanged := false
	for _, a := range adds {
		dataChanged = dataChanged || a.DataChange
	}
	for _, r := range removes {
		dataChanged = dataChanged || r.DataChange
	}
	if (t.metadata != nil || t.protocol != nil) && dataChanged {
		return errs.E(errs.Conflict, ReasonMetadataChanged,
			"this transaction changes the table metadata but a concurrent update changed data (%s, read version %d); please try the operation again", winner, t.ReadVersion())
	}
	// Files added by the winner that this transaction should have read.
	if (t.readWhole || len(t.readFilters) > 0) && !(winnerBlind && t.isolationLevel() == "WriteSerializable") {
		for _, a := range adds {
			if !a.DataChange {
				continue
			}
			if t.readWhole || t.matchesRead(a) {
				return errs.E(errs.Conflict, ReasonConcurrentAppend,
					"files were added to %s by a concurrent update (%s, read version %d); please try the operation again",
					partitionDesc(a.PartitionValues), winner, t.ReadVersion())
			}
		}
	}
	// Files removed by the winner.
	mine := map[string]bool{}
	for _, r := range t.removes {
		mine[fileKey(r.Path, r.DeletionVector)] = true
	}
	for _, r := range removes {
		k := fileKey(r.Path, r.DeletionVector)
		if mine[k] {
			return errs.E(errs.Conflict, ReasonConcurrentDeleteDelete,
				"file %s was removed by a concurrent update (%s, read version %d) that this transaction also removes; please try the operation again", r.Path, winner, t.ReadVersion())
		}
		if t.readFiles[k] || (t.readWhole && r.DataChange) {
			return errs.E(errs.Conflict, ReasonConcurrentDeleteRead,
				"file %s read by this transaction was removed by a concurrent update (%s, read version %d); please try the operation again", r.Path, winner, t.ReadVersion())
		}
	}
	return nil
}

// matchesRead reports whether an added file may hold rows matching one of
// the transaction's read predicates (partition values and statistics).
func (t *Transaction) matchesRead(a *Add) bool {
	if t.snap == nil {
		return true
	}
	f, err := t.snap.scanFile(a)
	if err != nil {
		return true
	}
	parts := map[string]bool{}
	for _, p := range t.snap.metadata.PartitionColumns {
		if fld := t.snap.schema.Field(p); fld != nil {
			parts[fld.Name] = true
		}
	}
	fv := &fileView{partition: f.PartitionValues, isPart: parts, stats: f.Stats}
	for _, p := range t.readFilters {
		if fv.mightMatch(p) {
			return true
		}
	}
	return false
}

func partitionDesc(pv PartitionValues) string {
	if len(pv) == 0 {
		return "the table"
	}
	keys := make([]string, 0, len(pv))
	for k := range pv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		if pv[k] == nil {
			parts = append(parts, k+"=NULL")
		} else {
			parts = append(parts, k+"="+*pv[k])
		}
	}
	return "partition [" + strings.Join(parts, ", ") + "]"
}
