package delta

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob/localfs"
)

const crashDirEnv = "LAKEBOX_DELTA_CRASH_DIR"

const crashBatch = 200

func crashSchema() *StructType {
	return &StructType{Fields: []*StructField{field("batch", TypeString), field("seq", TypeLong), field("part", TypeInteger)}}
}

// TestCrashChild is the subprocess of TestCrashRecovery: it appends batches
// to the table in $LAKEBOX_DELTA_CRASH_DIR until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("subprocess of TestCrashRecovery")
	}
	b, err := localfs.New(dir)
	if err != nil {
		os.Exit(3)
	}
	tbl := NewTable(b, "t")
	ctx := context.Background()
	for {
		batch := uuid.NewString()
		rows := make([]Row, crashBatch)
		for i := range rows {
			rows[i] = Row{batch, int64(i), int32(i % 4)}
		}
		if _, err := tbl.Append(ctx, rows, WriteOptions{Txn: TransactionOptions{TargetFileSize: 2 << 10}}); err != nil {
			os.Exit(4)
		}
	}
}

// TestCrashRecovery SIGKILLs a writer at random moments, repeatedly; after
// each kill the table must open at a consistent version whose rows are
// exactly the batches of the committed versions.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns subprocesses")
	}
	dir := t.TempDir()
	b, err := localfs.New(dir)
	require.NoError(t, err)
	defer b.Close()
	tbl := NewTable(b, "t")
	ctx := context.Background()
	mustCreate(t, tbl, crashSchema(), []string{"part"}, map[string]string{"delta.checkpointInterval": "3"})
	rounds := 20
	lastVersion := int64(0)
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
		require.NoError(t, cmd.Start())
		time.Sleep(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()

		snap, err := tbl.Latest(ctx)
		require.NoError(t, err, "round %d", round)
		require.GreaterOrEqual(t, snap.Version(), lastVersion)
		lastVersion = snap.Version()
		// Every commit after version 0 is one whole batch.
		rows := wReadSnap(t, snap)
		batches := map[string]map[int64]bool{}
		for _, r := range rows {
			m := batches[r[0].(string)]
			if m == nil {
				m = map[int64]bool{}
				batches[r[0].(string)] = m
			}
			require.False(t, m[r[1].(int64)], "duplicate row %v", r)
			m[r[1].(int64)] = true
		}
		require.Len(t, batches, int(snap.Version()), "round %d: one batch per committed version", round)
		for id, m := range batches {
			require.Len(t, m, crashBatch, "batch %s is partial", id)
		}
	}
	t.Logf("after %d kills the table is at version %d", rounds, lastVersion)
	require.Greater(t, lastVersion, int64(0), "the writer never committed; increase the delays")
}
