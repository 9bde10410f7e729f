package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

func resolve(t *testing.T, args []string, env map[string]string, file string) (*Server, error) {
	t.Helper()
	var c Server
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	c.Register(fs)
	if file != "" {
		p := filepath.Join(t.TempDir(), "lakebox.conf")
		require.NoError(t, os.WriteFile(p, []byte(file), 0o600))
		args = append(args, "--config", p)
	}
	require.NoError(t, fs.Parse(args))
	return &c, c.Resolve(fs, func(k string) string { return env[k] })
}

func TestPrecedence(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		c, err := resolve(t, nil, nil, "")
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:8080", c.Addr)
		require.Contains(t, c.Metastore, "sqlite://")
		require.Contains(t, c.Metastore, "lakebox-data/metastore.db")
		require.Contains(t, c.Warehouse, "lakebox-data/warehouse")
	})
	t.Run("FileEnvFlag", func(t *testing.T) {
		file := "# comment\naddr = 127.0.0.1:1\nlog-level: warn\nlog-format = text\nadmin-token = lbx_file\n"
		c, err := resolve(t, []string{"--addr", "127.0.0.1:3"}, map[string]string{"LAKEBOX_LOG_LEVEL": "debug"}, file)
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:3", c.Addr, "flag beats env and file")
		require.Equal(t, "debug", c.LogLevel, "env beats file")
		require.Equal(t, "text", c.LogFormat, "file beats default")
		require.Equal(t, "lbx_file", c.AdminToken)
	})
	t.Run("EnvAdminToken", func(t *testing.T) {
		c, err := resolve(t, nil, map[string]string{"LAKEBOX_ADMIN_TOKEN": "lbx_env", "LAKEBOX_DATA_DIR": "/tmp/x"}, "")
		require.NoError(t, err)
		require.Equal(t, "lbx_env", c.AdminToken)
		require.Equal(t, "sqlite:///tmp/x/metastore.db", c.Metastore)
	})
}

func TestBadConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		file string
		want string
	}{
		"ErrUnknownKey":  {file: "adr = x\n", want: `unknown setting "adr"`},
		"ErrNoEquals":    {file: "just words\n", want: "expected `key = value`"},
		"ErrBadEnvValue": {env: map[string]string{"LAKEBOX_MAX_BODY_BYTES": "lots"}, want: "LAKEBOX_MAX_BODY_BYTES"},
		"ErrLogLevel":    {args: []string{"--log-level", "loud"}, want: "debug, info, warn or error"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := resolve(t, tc.args, tc.env, tc.file)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
