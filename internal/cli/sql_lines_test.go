package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTermLines drives the shell's line editor as a terminal would: Up
// recalls earlier statements (newest first), Ctrl-C clears the line,
// editing keys work, Ctrl-D on an empty line ends the input.
func TestTermLines(t *testing.T) {
	h := &sqlHistory{}
	h.push("SELECT 1;")
	h.push("SELECT 2;")
	const up, left = "\x1b[A", "\x1b[D"
	in := up + "\r" + // the newest statement
		up + up + "\r" + // the one before
		"abc\x03def\r" + // Ctrl-C clears "abc"
		"SELCT" + left + left + "E\r" + // insert a letter mid-line
		"\x04" // Ctrl-D
	l := newTermLines(strings.NewReader(in), io.Discard, -1, h)
	for _, want := range []string{"SELECT 2;\n", "SELECT 1;\n", "def\n", "SELECT\n"} {
		got, err := l.Line("> ")
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := l.Line("> ")
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, 2, h.Len(), "typed lines are not history; statements are pushed whole")
}

func TestSQLHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sql_history")
	var b strings.Builder
	for i := range maxHistory + 5 {
		fmt.Fprintf(&b, "SELECT %d;\nSELECT %d;\n\n", i, i) // duplicates collapse
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	h := loadHistory(path)
	require.Equal(t, maxHistory, h.Len())
	require.Equal(t, fmt.Sprintf("SELECT %d;", maxHistory+4), h.At(0))
	require.Equal(t, "SELECT 5;", h.At(maxHistory-1))
	require.Equal(t, 0, loadHistory(filepath.Join(t.TempDir(), "missing")).Len())
}
