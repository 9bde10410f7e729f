package inferlog

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob/localfs"
	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/serving"
)

const table = "main.default.ep_payload"

// TestMain runs the crash child when asked: it captures records forever,
// printing each request id once Capture has returned (the moment the server
// would answer the request), until it is killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LAKEBOX_INFERLOG_CHILD"); dir != "" {
		b, err := localfs.New(filepath.Join(dir, "warehouse"))
		if err != nil {
			panic(err)
		}
		l := New(Options{Dir: filepath.Join(dir, "spool"), Bucket: b, Interval: 20 * time.Millisecond, BatchSize: 50})
		for i := 0; ; i++ {
			id := fmt.Sprintf("req-%06d", i)
			l.Capture(&serving.CaptureRecord{Endpoint: "ep", Table: table, RequestID: id, Time: time.Now(), StatusCode: 200,
				Request: []byte(`{"inputs":[[1,2]]}`), Response: []byte(`{"predictions":[0.5]}`), ServedEntity: "m", EntityName: "main.default.m", EntityVersion: "1"})
			fmt.Println(id)
		}
	}
	os.Exit(m.Run())
}

func readIDs(t *testing.T, b *localfs.Bucket) map[string]bool {
	t.Helper()
	tbl := delta.NewTable(b, "__inference_tables/main/default/ep_payload")
	snap, err := tbl.Latest(context.Background())
	require.NoError(t, err)
	sc, err := snap.Scan(delta.ScanOptions{Columns: []string{"databricks_request_id", "request_metadata"}})
	require.NoError(t, err)
	ids := map[string]bool{}
	require.NoError(t, sc.Rows(context.Background(), func(r delta.Row) error {
		id := r[0].(string)
		require.False(t, ids[id], "record %s committed twice", id)
		ids[id] = true
		return nil
	}))
	return ids
}

// TestKill9LosesNoAnsweredRecord kills a capturing process with SIGKILL and
// checks that every record it acknowledged reaches the inference table
// exactly once after a restart.
func TestKill9LosesNoAnsweredRecord(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LAKEBOX_INFERLOG_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(out)
	var acked []string
	for sc.Scan() {
		acked = append(acked, strings.TrimSpace(sc.Text()))
		if len(acked) == 3000 {
			break
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	for sc.Scan() { // lines printed before the kill landed were acknowledged too
		acked = append(acked, strings.TrimSpace(sc.Text()))
	}
	cmd.Wait()

	b, err := localfs.New(filepath.Join(dir, "warehouse"))
	require.NoError(t, err)
	l := New(Options{Dir: filepath.Join(dir, "spool"), Bucket: b})
	require.NoError(t, l.Open(table))
	require.NoError(t, l.Flush(context.Background()))
	require.NoError(t, l.Close(context.Background()))
	ids := readIDs(t, b)
	for _, id := range acked {
		require.True(t, ids[id], "acknowledged record %s is missing (of %d acknowledged, %d in the table)", id, len(acked), len(ids))
	}
	t.Logf("%d acknowledged, %d in the table", len(acked), len(ids))
}

func TestTruncation(t *testing.T) {
	dir := t.TempDir()
	b, err := localfs.New(filepath.Join(dir, "warehouse"))
	require.NoError(t, err)
	l := New(Options{Dir: filepath.Join(dir, "spool"), Bucket: b, MaxPayloadBytes: 10})
	l.Capture(&serving.CaptureRecord{Endpoint: "ep", Table: table, RequestID: "r1", Time: time.Now(), StatusCode: 200,
		Request: []byte(`{"inputs":[[1,2,3,4,5,6,7]]}`), Response: []byte(`{"p":1}`)})
	require.NoError(t, l.Flush(context.Background()))
	require.NoError(t, l.Close(context.Background()))
	tbl := delta.NewTable(b, "__inference_tables/main/default/ep_payload")
	snap, err := tbl.Latest(context.Background())
	require.NoError(t, err)
	sc, err := snap.Scan(delta.ScanOptions{Columns: []string{"request", "response", "logging_error_codes", "status_code", "date"}})
	require.NoError(t, err)
	n := 0
	require.NoError(t, sc.Rows(context.Background(), func(r delta.Row) error {
		n++
		require.Equal(t, `{"inputs":`, r[0])
		require.Equal(t, `{"p":1}`, r[1])
		require.Equal(t, []any{"MAX_REQUEST_SIZE_EXCEEDED"}, r[2])
		require.Equal(t, int32(200), r[3])
		return nil
	}))
	require.Equal(t, 1, n)
}
