// Package config describes the server's settings and resolves them from, in
// order of precedence, command-line flags, LAKEBOX_* environment variables,
// an optional config file, and defaults. Every setting is a flag, so
// `lakebox server --help` documents all of them.
package config

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/lakebox/lakebox/internal/errs"
)

// Server is the configuration of `lakebox server`.
type Server struct {
	ConfigFile  string
	Addr        string
	DataDir     string
	Metastore   string
	Warehouse   string
	S3Endpoint  string
	S3Region    string
	S3AccessKey string
	S3SecretKey string
	S3PathStyle bool
	// S3VendStatic lets the Unity Catalog temporary-credentials APIs hand
	// out the server's own S3 key pair (unscoped) for s3:// storage.
	S3VendStatic    bool
	LogLevel        string
	LogFormat       string
	MaxBodyBytes    int64
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	ShutdownTimeout time.Duration
	DropRetention   time.Duration
	// Serving runtimes.
	ONNXRuntimeLib   string
	Python           string
	ServingModelsDir string
	InferenceFsync   bool
	// SQL engine limits (per statement, and statements at once).
	SQLMemoryLimit   string
	SQLTimeout       time.Duration
	SQLMaxConcurrent int
	// AdminToken is the bootstrap admin token (LAKEBOX_ADMIN_TOKEN); it has
	// no flag so that it never shows in process listings.
	AdminToken string
}

// Register defines the server's flags on fs, bound to c.
func (c *Server) Register(fs *pflag.FlagSet) {
	fs.StringVar(&c.ConfigFile, "config", "", "config file of `key = value` lines (keys are these flag names); env LAKEBOX_CONFIG")
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.StringVar(&c.DataDir, "data-dir", "./lakebox-data", "data directory for the embedded metastore and warehouse")
	fs.StringVar(&c.Metastore, "metastore", "", "metadata database URL: sqlite:///path/metastore.db or postgres://user:pass@host:5432/db (default: SQLite in the data directory)")
	fs.StringVar(&c.Warehouse, "warehouse", "", "storage for tables, volumes and artifacts: file:///path or s3://bucket/prefix (default: <data-dir>/warehouse)")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", "", "S3 endpoint URL for s3:// warehouses, e.g. http://127.0.0.1:7070 (MinIO, versitygw); empty = AWS")
	fs.StringVar(&c.S3Region, "s3-region", "", "S3 region (default: the warehouse URL's region= parameter, else us-east-1)")
	fs.StringVar(&c.S3AccessKey, "s3-access-key", "", "S3 access key id (or env AWS_ACCESS_KEY_ID)")
	fs.StringVar(&c.S3SecretKey, "s3-secret-key", "", "S3 secret access key (or env AWS_SECRET_ACCESS_KEY; prefer env or the config file to keep it out of process listings)")
	fs.BoolVar(&c.S3PathStyle, "s3-path-style", false, "use path-style S3 addressing (needed by most self-hosted S3 servers)")
	fs.BoolVar(&c.S3VendStatic, "s3-vend-static-credentials", false, "let the Unity Catalog temporary-credentials APIs return the server's own S3 key pair for s3:// tables, volumes and paths (NOT scoped to the location: anyone granted one table can read the whole bucket; off by default, so those APIs refuse s3:// locations)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "json", "log format: json or text")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", 64<<20, "largest accepted request body in bytes")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", 5*time.Minute, "HTTP read timeout (whole request, including the body)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", 10*time.Minute, "HTTP write timeout")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM")
	fs.DurationVar(&c.DropRetention, "drop-retention", 7*24*time.Hour, "how long dropped managed tables and volumes keep their data (UNDROP works within it)")
	fs.StringVar(&c.ONNXRuntimeLib, "onnxruntime-lib", "", "path of libonnxruntime.so.1, for serving ONNX models (e.g. from npm onnxruntime-node)")
	fs.StringVar(&c.Python, "python", "", "Python interpreter of model-serving workers for sklearn/pyfunc models (default /usr/bin/python3)")
	fs.StringVar(&c.ServingModelsDir, "serving-models-dir", "", "serve models from this directory (CATALOG/SCHEMA/MODEL/VERSION/MLmodel) instead of the model registry")
	fs.BoolVar(&c.InferenceFsync, "inferlog-fsync", false, "fsync inference-table records before answering (survives a machine crash, not only a process crash; slower)")
	fs.StringVar(&c.SQLMemoryLimit, "sql-memory-limit", "2GB", "memory limit of one SQL statement (DuckDB), e.g. 512MB or 4GB; larger work spills to <data-dir>/tmp")
	fs.DurationVar(&c.SQLTimeout, "sql-timeout", 5*time.Minute, "longest a SQL statement may run before it is canceled")
	fs.IntVar(&c.SQLMaxConcurrent, "sql-max-concurrent", 8, "SQL statements that run at once; more wait for a slot")
}

// EnvName returns the environment variable of a flag: LAKEBOX_ + upper snake case.
func EnvName(flag string) string {
	return "LAKEBOX_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Resolve fills every flag that was not set on the command line from the
// environment, then from the config file, and validates the result. getenv
// is os.Getenv outside tests.
func (c *Server) Resolve(fs *pflag.FlagSet, getenv func(string) string) error {
	if !fs.Changed("config") {
		if v := getenv("LAKEBOX_CONFIG"); v != "" {
			c.ConfigFile = v
		}
	}
	file := map[string]string{}
	if c.ConfigFile != "" {
		var err error
		if file, err = readFile(c.ConfigFile, fs); err != nil {
			return err
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Name == "config" {
			return
		}
		v, ok := getenv(EnvName(f.Name)), true
		src := EnvName(f.Name)
		if v == "" {
			v, ok = file[f.Name]
			src = c.ConfigFile + ": " + f.Name
		}
		if ok && v != "" {
			if e := f.Value.Set(v); e != nil {
				err = errs.E(errs.Invalid, "INVALID_CONFIG", "invalid value %q for %s: %v", v, src, e)
			}
		}
	})
	if err != nil {
		return err
	}
	if c.S3AccessKey == "" {
		c.S3AccessKey = getenv("AWS_ACCESS_KEY_ID")
	}
	if c.S3SecretKey == "" {
		c.S3SecretKey = getenv("AWS_SECRET_ACCESS_KEY")
	}
	if c.AdminToken == "" {
		c.AdminToken = getenv("LAKEBOX_ADMIN_TOKEN")
		if c.AdminToken == "" {
			c.AdminToken = file["admin-token"]
		}
	}
	return c.finish()
}

func (c *Server) finish() error {
	if c.DataDir == "" {
		return errs.E(errs.Invalid, "INVALID_CONFIG", "--data-dir must not be empty")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return errs.Wrap(errs.Invalid, "INVALID_CONFIG", err, "bad --data-dir %q", c.DataDir)
	}
	c.DataDir = abs
	if c.Metastore == "" {
		c.Metastore = "sqlite://" + filepath.Join(abs, "metastore.db")
	}
	if c.Warehouse == "" {
		c.Warehouse = "file://" + filepath.Join(abs, "warehouse")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return errs.E(errs.Invalid, "INVALID_CONFIG", "invalid --log-level %q: use debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		return errs.E(errs.Invalid, "INVALID_CONFIG", "invalid --log-format %q: use json or text", c.LogFormat)
	}
	if c.DropRetention < 0 {
		return errs.E(errs.Invalid, "INVALID_CONFIG", "--drop-retention must not be negative")
	}
	if c.SQLTimeout < 0 || c.SQLMaxConcurrent < 0 {
		return errs.E(errs.Invalid, "INVALID_CONFIG", "--sql-timeout and --sql-max-concurrent must not be negative")
	}
	if c.MaxBodyBytes <= 0 {
		return errs.E(errs.Invalid, "INVALID_CONFIG", "--max-body-bytes must be positive")
	}
	return nil
}

// readFile parses a config file of `key = value` (or `key: value`) lines.
// Keys are flag names, plus admin-token.
func readFile(path string, fs *pflag.FlagSet) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "INVALID_CONFIG", err, "cannot read config file %s", path)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			return nil, errs.E(errs.Invalid, "INVALID_CONFIG", "%s:%d: expected `key = value`, got %q", path, n, line)
		}
		key, val := strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		val = strings.Trim(val, `"`)
		if key != "admin-token" && (fs.Lookup(key) == nil || key == "config") {
			return nil, errs.E(errs.Invalid, "INVALID_CONFIG", "%s:%d: unknown setting %q; known settings: %s", path, n, key, strings.Join(known(fs), ", "))
		}
		out[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

func known(fs *pflag.FlagSet) []string {
	var ks []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "config" && f.Name != "help" {
			ks = append(ks, f.Name)
		}
	})
	ks = append(ks, "admin-token")
	sort.Strings(ks)
	return ks
}
