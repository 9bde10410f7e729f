package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// lineReader reads the SQL shell's input a line at a time: Line shows
// prompt and returns the next line with its newline (at the end of input,
// what is left and io.EOF).
type lineReader interface {
	Line(prompt string) (string, error)
}

// plainLines reads lines from a pipe or file, echoing the prompt.
type plainLines struct {
	r   *bufio.Reader
	out io.Writer
}

func (p plainLines) Line(prompt string) (string, error) {
	fmt.Fprint(p.out, prompt)
	return p.r.ReadString('\n')
}

// termLines edits lines on a terminal: cursor keys, Home/End, Ctrl-U/K/W,
// and Up/Down through the statements of this and earlier sessions
// (~/.lakebox/sql_history). Ctrl-C clears the line; Ctrl-D on an empty
// line ends the input. The terminal is in raw mode only while a line is
// read, so Ctrl-C during a statement interrupts it as usual.
type termLines struct {
	fd   int // -1: not a real terminal (tests)
	t    *term.Terminal
	hist *sqlHistory
}

func newTermLines(in io.Reader, out io.Writer, fd int, hist *sqlHistory) *termLines {
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{ctrlCClears{in}, out}, "")
	t.History = hist
	return &termLines{fd: fd, t: t, hist: hist}
}

func (l *termLines) Line(prompt string) (string, error) {
	l.t.SetPrompt(prompt)
	if l.fd >= 0 {
		if st, err := term.MakeRaw(l.fd); err == nil {
			defer term.Restore(l.fd, st)
		}
	}
	line, err := l.t.ReadLine()
	if err == term.ErrPasteIndicator { // a pasted line: an ordinary one here
		err = nil
	}
	if err != nil {
		return "", err
	}
	return line + "\n", nil
}

// ctrlCClears turns Ctrl-C (which term.Terminal treats as end of input)
// into Ctrl-U, which clears the line.
type ctrlCClears struct{ r io.Reader }

func (c ctrlCClears) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range p[:n] {
		if p[i] == 3 {
			p[i] = 21
		}
	}
	return n, err
}

// sqlHistory is the shell's statement history for Up/Down: the last
// maxHistory statements of ~/.lakebox/sql_history and those run since.
// Lines the terminal reads are not added (Add is a no-op): a statement is
// added whole, once it is complete, by push.
type sqlHistory struct{ entries []string }

const maxHistory = 1000

// loadHistory reads the history file (missing or unreadable: empty).
func loadHistory(path string) *sqlHistory {
	h := &sqlHistory{}
	b, err := os.ReadFile(path)
	if err != nil {
		return h
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if s := strings.TrimSpace(string(l)); s != "" {
			h.push(s)
		}
	}
	return h
}

func (h *sqlHistory) push(stmt string) {
	if n := len(h.entries); n > 0 && h.entries[n-1] == stmt {
		return
	}
	h.entries = append(h.entries, stmt)
	if len(h.entries) > maxHistory {
		h.entries = h.entries[len(h.entries)-maxHistory:]
	}
}

// Add implements term.History (see sqlHistory).
func (h *sqlHistory) Add(string) {}

// Len implements term.History.
func (h *sqlHistory) Len() int { return len(h.entries) }

// At implements term.History: 0 is the most recent statement.
func (h *sqlHistory) At(i int) string { return h.entries[len(h.entries)-1-i] }
