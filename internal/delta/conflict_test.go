package delta

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/errs"
)

func TestConcurrentAppends(t *testing.T) {
	ctx := context.Background()
	tbl, _ := mustLocalTable(t) // real put-if-absent across goroutines
	mustCreate(t, tbl, dmlSchema(), []string{"part"}, nil)
	const writers, perWriter = 8, 5
	var wg sync.WaitGroup
	errc := make(chan error, writers*perWriter)
	versions := make(chan int64, writers*perWriter)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				id := int64(w*1000 + i)
				res, err := tbl.Append(ctx, []Row{{id, fmt.Sprintf("p%d", w%3), "x", int32(i)}}, WriteOptions{})
				if err != nil {
					errc <- err
					return
				}
				versions <- res.Version
			}
		}(w)
	}
	wg.Wait()
	close(errc)
	close(versions)
	for err := range errc {
		require.NoError(t, err)
	}
	seen := map[int64]bool{}
	for v := range versions {
		require.False(t, seen[v], "version %d committed twice", v)
		seen[v] = true
	}
	snap, err := tbl.Latest(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(writers*perWriter), snap.Version())
	for v := int64(1); v <= snap.Version(); v++ {
		require.True(t, seen[v], "version %d missing", v)
	}
	rows := wReadSnap(t, snap)
	require.Len(t, rows, writers*perWriter)
	uniq := map[int64]bool{}
	for _, r := range rows {
		uniq[r[0].(int64)] = true
	}
	require.Len(t, uniq, writers*perWriter)
}

func TestConflicts(t *testing.T) {
	ctx := context.Background()
	t.Run("OverlappingDeletes", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		snap, err := tbl.Latest(ctx)
		require.NoError(t, err)
		_, err = tbl.Delete(ctx, &Comparison{Column: "id", Op: OpEq, Value: 1}, DMLOptions{Snapshot: snap})
		require.NoError(t, err)
		_, err = tbl.Delete(ctx, &Comparison{Column: "id", Op: OpEq, Value: 4}, DMLOptions{Snapshot: snap})
		require.Equal(t, errs.Conflict, errs.KindOf(err), "%v", err)
		// The winner removed the file the loser read and re-added its other
		// rows; like Spark, the added-files check fires first.
		require.Contains(t, []string{ReasonConcurrentAppend, ReasonConcurrentDeleteRead}, errs.ReasonOf(err))
		require.Contains(t, err.Error(), "version 2")
		require.Len(t, wReadAll(t, tbl), 8)
	})
	t.Run("AppendVsDeleteDisjointPartition", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		snap, err := tbl.Latest(ctx)
		require.NoError(t, err)
		// A concurrent non-blind write (an update) to partition c, then a
		// delete that read snap in partition a.
		_, err = tbl.Update(ctx, UpdateSpec{Where: &Comparison{Column: "part", Op: OpEq, Value: "c"}, Set: map[string]any{"v": "u"}}, DMLOptions{Snapshot: snap})
		require.NoError(t, err)
		_, err = tbl.Append(ctx, []Row{{int64(500), "b", "x", int32(0)}}, WriteOptions{})
		require.NoError(t, err)
		res, err := tbl.Delete(ctx, &Comparison{Column: "part", Op: OpEq, Value: "a"}, DMLOptions{Snapshot: snap})
		require.NoError(t, err)
		require.Equal(t, int64(4), res.Version)
		require.Equal(t, 2, res.Attempts) // lost version 2, rebased over 2 and 3
		require.ElementsMatch(t, []int64{1, 2, 4, 5, 7, 8, 500}, ids(wReadAll(t, tbl)))
	})
	t.Run("AppendIntoReadPartitionSerializable", func(t *testing.T) {
		tbl := mustDMLTable(t, map[string]string{"delta.isolationLevel": "Serializable"}, 1)
		snap, _ := tbl.Latest(ctx)
		_, err := tbl.Append(ctx, []Row{{int64(600), "a", "x", int32(0)}}, WriteOptions{})
		require.NoError(t, err)
		_, err = tbl.Delete(ctx, &Comparison{Column: "part", Op: OpEq, Value: "a"}, DMLOptions{Snapshot: snap})
		require.Equal(t, ReasonConcurrentAppend, errs.ReasonOf(err), "%v", err)
	})
	t.Run("UpdateVsUpdateSamePartition", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		snap, _ := tbl.Latest(ctx)
		_, err := tbl.Update(ctx, UpdateSpec{Where: &Comparison{Column: "part", Op: OpEq, Value: "a"}, Set: map[string]any{"v": "1"}}, DMLOptions{Snapshot: snap})
		require.NoError(t, err)
		_, err = tbl.Update(ctx, UpdateSpec{Where: &Comparison{Column: "part", Op: OpEq, Value: "a"}, Set: map[string]any{"v": "2"}}, DMLOptions{Snapshot: snap})
		require.Equal(t, errs.Conflict, errs.KindOf(err))
	})
	t.Run("MetadataChangeConflictsWithAll", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		txn, err := tbl.StartTransaction(ctx, TransactionOptions{})
		require.NoError(t, err)
		_, err = txn.WriteRows(ctx, []Row{{int64(1), "a", "x", int32(1)}}, WriteOptions{})
		require.NoError(t, err)
		// Concurrent schema evolution.
		s := &StructType{Fields: append(append([]*StructField{}, dmlSchema().Fields...), field("extra", TypeDouble))}
		_, err = tbl.Append(ctx, []Row{{int64(2), "a", "x", int32(1), 1.0}}, WriteOptions{Schema: s, MergeSchema: true})
		require.NoError(t, err)
		_, err = txn.Commit(ctx, Operation{Name: "WRITE"})
		require.Equal(t, ReasonMetadataChanged, errs.ReasonOf(err), "%v", err)
	})
	t.Run("SetTransaction", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		a, _ := tbl.StartTransaction(ctx, TransactionOptions{})
		b, _ := tbl.StartTransaction(ctx, TransactionOptions{})
		for _, txn := range []*Transaction{a, b} {
			_, err := txn.WriteRows(ctx, []Row{{int64(9), "a", "x", int32(1)}}, WriteOptions{})
			require.NoError(t, err)
			txn.SetTransaction("stream-1", 7)
		}
		_, err := a.Commit(ctx, Operation{Name: "STREAMING UPDATE"})
		require.NoError(t, err)
		_, err = b.Commit(ctx, Operation{Name: "STREAMING UPDATE"})
		require.Equal(t, ReasonConcurrentTransaction, errs.ReasonOf(err))
		snap, _ := tbl.Latest(ctx)
		v, ok := snap.AppTransactionVersion("stream-1")
		require.True(t, ok)
		require.Equal(t, int64(7), v)
	})
	t.Run("ErrCommitTwice", func(t *testing.T) {
		tbl := mustDMLTable(t, nil, 1)
		txn, _ := tbl.StartTransaction(ctx, TransactionOptions{})
		_, err := txn.Commit(ctx, Operation{Name: "WRITE"})
		require.NoError(t, err)
		_, err = txn.Commit(ctx, Operation{Name: "WRITE"})
		require.Equal(t, errs.FailedPrecondition, errs.KindOf(err))
	})
}

func TestCommitInfo(t *testing.T) {
	ctx := context.Background()
	tbl := mustDMLTable(t, nil, 1)
	snap, err := tbl.Latest(ctx)
	require.NoError(t, err)
	ci := snap.LatestCommitInfo()
	require.NotNil(t, ci)
	require.Equal(t, "WRITE", ci.Operation)
	require.Equal(t, "Lakebox/"+EngineVersion, ci.EngineInfo)
	require.JSONEq(t, `true`, string(ci.Other["isBlindAppend"]))
	require.JSONEq(t, `0`, string(ci.Other["readVersion"]))
	require.JSONEq(t, `{"mode":"Append","partitionBy":"[]"}`, string(ci.Other["operationParameters"]))
	var m map[string]string
	require.NoError(t, jsonUnmarshal(ci.Other["operationMetrics"], &m))
	require.Equal(t, "3", m["numFiles"])
	require.Equal(t, "9", m["numOutputRows"])
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
