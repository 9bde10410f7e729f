package s3blob_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/blob/blobtest"
	"github.com/lakebox/lakebox/internal/blob/s3blob"
	"github.com/lakebox/lakebox/internal/errs"
	"github.com/lakebox/lakebox/internal/testenv"
)

// raceConfigEnv passes the bucket's Config, as JSON, to process-race
// children.
const raceConfigEnv = "LAKEBOX_S3BLOB_RACE_CONFIG"

func TestMain(m *testing.M) {
	blobtest.MaybeRunChild(func() (blob.Bucket, error) {
		var cfg s3blob.Config
		if err := json.Unmarshal([]byte(os.Getenv(raceConfigEnv)), &cfg); err != nil {
			return nil, err
		}
		return s3blob.New(context.Background(), cfg)
	})
	code := m.Run()
	testenv.StopS3()
	os.Exit(code)
}

func newBucket(t testing.TB, cfg s3blob.Config) *s3blob.Bucket {
	t.Helper()
	b, err := s3blob.New(context.Background(), cfg)
	require.NoError(t, err)
	return b
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Bucket { return newBucket(t, testenv.S3(t)) })
}

func TestConformancePrefix(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Bucket {
		cfg := testenv.S3(t)
		cfg.Prefix = "warehouse/main"
		return newBucket(t, cfg)
	})
}

func TestProcessRace(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	cfg := testenv.S3(t)
	b := newBucket(t, cfg)
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	blobtest.RunProcessRace(t, b, map[string]string{raceConfigEnv: string(js)}, blobtest.ProcessRaceOptions{Procs: 8, Rounds: 10})
}

func TestNew(t *testing.T) {
	ctx := context.Background()
	cfg := testenv.S3(t)
	t.Run("OK", func(t *testing.T) {
		_, err := s3blob.New(ctx, cfg)
		require.NoError(t, err)
	})
	t.Run("ErrNoSuchBucket", func(t *testing.T) {
		c := cfg
		c.Bucket = "lakebox-does-not-exist"
		_, err := s3blob.New(ctx, c)
		require.True(t, errs.Is(err, errs.NotFound), "%v", err)
		require.ErrorContains(t, err, c.Bucket)
		require.ErrorContains(t, err, c.Endpoint)
	})
	t.Run("ErrBadSecret", func(t *testing.T) {
		c := cfg
		c.SecretKey = "wrong-secret-value"
		_, err := s3blob.New(ctx, c)
		require.True(t, errs.Is(err, errs.PermissionDenied), "%v", err)
		require.NotContains(t, err.Error(), c.SecretKey)
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		c := cfg
		c.Endpoint = "127.0.0.1:1"
		_, err := s3blob.New(ctx, c)
		require.True(t, errs.Is(err, errs.Unavailable), "%v", err)
		require.ErrorContains(t, err, "127.0.0.1:1")
		require.ErrorContains(t, err, c.Bucket)
		require.NotContains(t, err.Error(), c.SecretKey)
	})
	t.Run("ErrNoBucket", func(t *testing.T) {
		c := cfg
		c.Bucket = ""
		_, err := s3blob.New(ctx, c)
		require.True(t, errs.Is(err, errs.Invalid), "%v", err)
	})
}

func TestConfigRedactsSecret(t *testing.T) {
	cfg := s3blob.Config{Endpoint: "h:1", Bucket: "b", AccessKey: "AK", SecretKey: "very-secret"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), cfg.LogValue().String(), cfg.URL()} {
		require.NotContains(t, s, "very-secret")
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		want      s3blob.Config
	}{
		{"OK", "s3://lake/wh/main?endpoint=http://127.0.0.1:7070&region=us-east-1&path_style=true",
			s3blob.Config{Bucket: "lake", Prefix: "wh/main", Endpoint: "127.0.0.1:7070", Region: "us-east-1", PathStyle: true}},
		{"NoPrefix", "s3://lake", s3blob.Config{Bucket: "lake", UseSSL: true}},
		{"TrailingSlash", "s3://lake/wh/", s3blob.Config{Bucket: "lake", Prefix: "wh", UseSSL: true}},
		{"HTTPS", "s3://lake?endpoint=https://s3.example.com/", s3blob.Config{Bucket: "lake", Endpoint: "s3.example.com", UseSSL: true}},
		{"BareEndpoint", "s3://lake?endpoint=s3.example.com:9000&path_style=false", s3blob.Config{Bucket: "lake", Endpoint: "s3.example.com:9000", UseSSL: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s3blob.ParseURL(tc.url)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			back, err := s3blob.ParseURL(got.URL())
			require.NoError(t, err)
			require.Equal(t, got, back, "URL() round-trips")
		})
	}
	for _, tc := range []struct{ name, url string }{
		{"ErrScheme", "file:///tmp/x"},
		{"ErrCredentials", "s3://AK:SK@lake/x"},
		{"ErrNoBucket", "s3:///x"},
		{"ErrUnknownParam", "s3://lake?secret=x"},
		{"ErrPathStyle", "s3://lake?path_style=maybe"},
		{"ErrEndpointScheme", "s3://lake?endpoint=ftp://h"},
		{"ErrEndpointPath", "s3://lake?endpoint=http://h/path"},
		{"ErrPrefix", "s3://lake/a/../b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s3blob.ParseURL(tc.url)
			require.True(t, errs.Is(err, errs.Invalid), "%v", err)
		})
	}
}

func BenchmarkBucket(b *testing.B) {
	blobtest.Bench(b, func(b *testing.B) blob.Bucket { return newBucket(b, testenv.S3(b)) })
}
