package blobtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// ChildEnv is the environment variable that makes a re-executed test binary
// act as a RunProcessRace child instead of running tests.
const ChildEnv = "LAKEBOX_BLOBTEST_CHILD"

// Protocol between RunProcessRace and its children, one line per message:
// the child prints "blobtest ready"; then for each line "put <key>" read on
// stdin it tries a put-if-absent of key with content "<child id> <key>" and
// prints "blobtest won <key>", "blobtest lost <key>" or "blobtest error <key>
// <message>"; it exits when stdin closes.
const linePrefix = "blobtest "

// MaybeRunChild turns the current process into a RunProcessRace child if
// ChildEnv is set, and otherwise returns at once. Call it first in TestMain:
//
//	func TestMain(m *testing.M) {
//		blobtest.MaybeRunChild(func() (blob.Bucket, error) { return open(os.Getenv("MY_BUCKET")) })
//		os.Exit(m.Run())
//	}
//
// open builds the bucket from environment variables that the test passed to
// RunProcessRace. In a child, MaybeRunChild never returns.
func MaybeRunChild(open func() (blob.Bucket, error)) {
	id := os.Getenv(ChildEnv)
	if id == "" {
		return
	}
	os.Exit(runChild(id, open, os.Stdin, os.Stdout))
}

func runChild(id string, open func() (blob.Bucket, error), in io.Reader, out io.Writer) int {
	w := bufio.NewWriter(out)
	say := func(format string, args ...any) {
		fmt.Fprintf(w, linePrefix+format+"\n", args...)
		w.Flush()
	}
	b, err := open()
	if err != nil {
		say("fatal %s", oneLine(err.Error()))
		return 1
	}
	say("ready")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		key, ok := strings.CutPrefix(sc.Text(), "put ")
		if !ok {
			say("fatal unexpected command %q", sc.Text())
			return 1
		}
		err := blob.PutBytes(context.Background(), b, key, []byte(id+" "+key), blob.PutOptions{IfAbsent: true})
		switch {
		case err == nil:
			say("won %s", key)
		case errs.KindOf(err) == errs.Conflict && errs.ReasonOf(err) == blob.ReasonExists:
			say("lost %s", key)
		default:
			say("error %s %s", key, oneLine(err.Error()))
		}
	}
	return 0
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " | ") }

// ProcessRaceOptions tune RunProcessRace. Zero values take the defaults.
type ProcessRaceOptions struct {
	Procs   int           // racing processes; default 8
	Rounds  int           // keys raced for, one after another; default 10
	Timeout time.Duration // for the whole race; default 2 minutes
}

// RunProcessRace starts opts.Procs copies of the current test binary as
// children (see MaybeRunChild) with env added to their environment, and has
// them race a put-if-absent on a fresh key opts.Rounds times. Every round
// exactly one child must win, every other must get errs.Conflict with
// ReasonExists, and b (the parent's handle on the same bucket) must then hold
// the winner's content. The children stay up for all rounds, so process
// start-up is paid once and the race window is as narrow as a pipe write.
func RunProcessRace(t *testing.T, b blob.Bucket, env map[string]string, opts ProcessRaceOptions) {
	t.Helper()
	if opts.Procs <= 0 {
		opts.Procs = 8
	}
	if opts.Rounds <= 0 {
		opts.Rounds = 10
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()

	type child struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		lines  chan string
		stderr *strings.Builder
	}
	children := make([]*child, opts.Procs)
	for i := range children {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=child%d", ChildEnv, i))
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		cmd.WaitDelay = 5 * time.Second
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start(), "start child %d", i)
		c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 4)}
		children[i] = c
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if line, ok := strings.CutPrefix(sc.Text(), linePrefix); ok {
					c.lines <- line
				}
			}
			close(c.lines)
		}()
		c.stderr = &stderr
	}
	// Runs before cancel: children exit on their own when stdin closes.
	defer func() {
		for i, c := range children {
			if c == nil {
				continue
			}
			c.stdin.Close()
			if err := c.cmd.Wait(); err != nil {
				t.Logf("child %d: %v; stderr: %s", i, err, c.stderr.String())
			}
		}
	}()
	// next returns child i's next protocol line.
	next := func(i int) string {
		t.Helper()
		select {
		case line, ok := <-children[i].lines:
			if !ok {
				require.FailNow(t, "child exited early",
					"child %d closed its output; does TestMain call blobtest.MaybeRunChild before m.Run?", i)
			}
			if strings.HasPrefix(line, "fatal ") {
				require.FailNow(t, "child failed", "child %d: %s", i, line)
			}
			return line
		case <-ctx.Done():
			require.FailNow(t, "timeout", "child %d did not answer within %v", i, opts.Timeout)
			return ""
		}
	}
	for i := range children {
		require.Equal(t, "ready", next(i))
	}
	base := fmt.Sprintf("process-race/%d-%d/", os.Getpid(), time.Now().UnixNano())
	for round := range opts.Rounds {
		key := fmt.Sprintf("%sround-%03d", base, round)
		cmd := []byte("put " + key + "\n")
		for _, c := range children {
			_, err := c.stdin.Write(cmd)
			require.NoError(t, err)
		}
		winner := -1
		for i := range children {
			switch line := next(i); line {
			case "won " + key:
				require.Equal(t, -1, winner, "round %d: children %d and %d both won", round, winner, i)
				winner = i
			case "lost " + key:
			default:
				require.FailNow(t, "unexpected answer", "round %d child %d: %s", round, i, line)
			}
		}
		require.NotEqual(t, -1, winner, "round %d: no child won", round)
		got, err := blob.ReadAll(context.Background(), b, key)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("child%d %s", winner, key), string(got), "round %d", round)
	}
}
