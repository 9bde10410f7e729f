package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/s3blob"
	"github.com/lakebox/lakebox/internal/testenv"
)

// run runs the CLI with env vars and stdin, returning the exit code and output.
func run(t *testing.T, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Home: vars["HOME"],
		Getenv: func(k string) string { return vars[k] }}
	code := RunEnv(context.Background(), env, args)
	return code, out.String(), errOut.String()
}

func TestLoginAndTokens(t *testing.T) {
	srv := apptest.New(t, "SQLite")
	home := t.TempDir()
	vars := map[string]string{"HOME": home}

	code, out, errOut := run(t, vars, apptest.AdminToken+"\n", "auth", "login", "--host", srv.URL)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Logged in to "+srv.URL+" as admin")
	st, err := os.Stat(filepath.Join(home, ".lakebox", "config"))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), st.Mode().Perm(), "the profile holds a secret")

	code, out, errOut = run(t, vars, "", "tokens", "create", "--lifetime", "1h", "--comment", "from cli", "-o", "json")
	require.Equal(t, 0, code, errOut)
	var created struct {
		TokenValue string `json:"token_value"`
		TokenInfo  struct {
			TokenID string `json:"token_id"`
		} `json:"token_info"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	require.True(t, strings.HasPrefix(created.TokenValue, "lbx_"))

	code, out, _ = run(t, vars, "", "tokens", "list")
	require.Equal(t, 0, code)
	require.Contains(t, out, created.TokenInfo.TokenID)
	require.NotContains(t, out, created.TokenValue, "secrets are shown once")

	t.Run("EnvOverridesProfile", func(t *testing.T) {
		v := map[string]string{"HOME": home, "LAKEBOX_TOKEN": created.TokenValue}
		code, out, errOut := run(t, v, "", "auth", "whoami", "-o", "json")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, `"userName": "admin"`)
		code, _, _ = run(t, vars, "", "tokens", "revoke", created.TokenInfo.TokenID)
		require.Equal(t, 0, code)
		code, _, errOut = run(t, v, "", "auth", "whoami")
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "invalid or expired access token")
		require.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %q", errOut)
	})
	t.Run("ErrUnknownProfile", func(t *testing.T) {
		code, _, errOut := run(t, vars, "", "tokens", "list", "--profile", "nope")
		require.Equal(t, 2, code)
		require.Contains(t, errOut, `profile "nope" not found`)
	})
	t.Run("ErrBadLogin", func(t *testing.T) {
		code, _, errOut := run(t, map[string]string{"HOME": t.TempDir()}, "lbx_wrong\n", "auth", "login", "--host", srv.URL)
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "login to "+srv.URL+" failed")
	})
	t.Run("Principals", func(t *testing.T) {
		code, _, errOut := run(t, vars, "", "users", "create", "carol@example.com")
		require.Equal(t, 0, code, errOut)
		code, _, errOut = run(t, vars, "", "groups", "create", "analysts")
		require.Equal(t, 0, code, errOut)
		code, out, errOut := run(t, vars, "", "groups", "add-member", "analysts", "carol@example.com")
		require.Equal(t, 0, code, errOut)
		require.Contains(t, out, "carol@example.com")
		code, out, _ = run(t, vars, "", "users", "get", "carol@example.com")
		require.Equal(t, 0, code)
		require.Contains(t, out, "analysts")
		code, _, errOut = run(t, vars, "", "users", "create")
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "USER_NAME")
	})
}

func corpusTable(t *testing.T, name string) string {
	t.Helper()
	dir, _ := os.Getwd()
	for ; dir != "/"; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
	}
	p := filepath.Join(dir, "..", "shared", "delta-compat", name, "table")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("the delta-compat corpus is not beside the repository (%s)", p)
	}
	return p
}

func TestDeltaScan(t *testing.T) {
	tbl := corpusTable(t, "dat_basic_append")
	vars := map[string]string{"HOME": t.TempDir()}
	code, out, errOut := run(t, vars, "", "delta", "scan", tbl, "--where", "number >= 3 AND letter != 'e'", "--columns", "letter,number", "--format", "jsonl")
	require.Equal(t, 0, code, errOut)
	require.ElementsMatch(t, []string{`{"letter":"c","number":3}`, `{"letter":"d","number":4}`}, strings.Fields(out))

	code, out, _ = run(t, vars, "", "delta", "scan", tbl, "--version", "0", "--format", "csv", "--columns", "letter")
	require.Equal(t, 0, code)
	require.Equal(t, "letter\na\nb\nc\n", out)

	t.Run("ErrNotATable", func(t *testing.T) {
		code, _, errOut := run(t, vars, "", "delta", "scan", t.TempDir())
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "not a Delta table")
	})
	t.Run("ErrBadWhere", func(t *testing.T) {
		code, _, errOut := run(t, vars, "", "delta", "scan", tbl, "--where", "nosuch = 1")
		require.NotEqual(t, 0, code)
		require.Contains(t, errOut, "nosuch")
	})

	t.Run("S3", func(t *testing.T) {
		cfg := testenv.S3(t)
		b, err := s3blob.New(context.Background(), cfg)
		require.NoError(t, err)
		require.NoError(t, filepath.WalkDir(tbl, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(tbl, p)
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return blob.PutBytes(context.Background(), b, "tables/basic/"+filepath.ToSlash(rel), data, blob.PutOptions{})
		}))
		cfg.Prefix = "tables/basic"
		v := map[string]string{"HOME": t.TempDir(), "AWS_ACCESS_KEY_ID": cfg.AccessKey, "AWS_SECRET_ACCESS_KEY": cfg.SecretKey}
		code, out, errOut := run(t, v, "", "delta", "scan", cfg.URL(), "--where", "number = 5", "--format", "jsonl", "--columns", "letter")
		require.Equal(t, 0, code, errOut)
		require.Equal(t, `{"letter":"e"}`+"\n", out)
	})
}
