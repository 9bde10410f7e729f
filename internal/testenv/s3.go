// This file provides S3: a fresh bucket on versitygw or on a server named by
// the environment. The package comment is in postgres.go.

package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/lakebox/lakebox/internal/blob/s3blob"
)

// Environment variables read by S3.
const (
	// EnvS3Endpoint points S3 at an existing server ("http://host:port" or
	// "host:port" for https) instead of starting versitygw.
	EnvS3Endpoint  = "LAKEBOX_TEST_S3_ENDPOINT"
	EnvS3AccessKey = "LAKEBOX_TEST_S3_ACCESS_KEY"
	EnvS3SecretKey = "LAKEBOX_TEST_S3_SECRET_KEY"
	EnvS3Region    = "LAKEBOX_TEST_S3_REGION"
	// EnvVersityGW names the versitygw binary to run.
	EnvVersityGW = "LAKEBOX_VERSITYGW"
)

const s3SkipMessage = "S3 tests need versitygw: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (or set LAKEBOX_TEST_S3_ENDPOINT)"

// Credentials of the versitygw that S3 starts; it listens on 127.0.0.1 only.
const (
	gwAccessKey = "lakebox-test"
	gwSecretKey = "lakebox-test-secret"
)

// s3Server is the S3 endpoint shared by all tests of one process.
type s3Server struct {
	endpoint, accessKey, secretKey, region string
	secure                                 bool
	skip                                   string // non-empty: skip tests with this message
	err                                    error  // non-nil: the server could not be started

	cmd *exec.Cmd
	dir string
}

var (
	s3Once   sync.Once
	s3Shared *s3Server
)

// S3 returns the location of a fresh, empty bucket on a real S3 server, and
// removes the bucket and its objects when the test ends.
//
// With LAKEBOX_TEST_S3_ENDPOINT set (and LAKEBOX_TEST_S3_ACCESS_KEY,
// LAKEBOX_TEST_S3_SECRET_KEY, optionally LAKEBOX_TEST_S3_REGION) it uses that
// server. Otherwise it starts one versitygw per test process, found through
// LAKEBOX_VERSITYGW, PATH, or $GOPATH/bin, serving a temporary directory on a
// free loopback port; the gateway dies with the process. If neither is
// available the test is skipped.
func S3(t testing.TB) s3blob.Config {
	t.Helper()
	s3Once.Do(func() { s3Shared = startS3() })
	srv := s3Shared
	if srv.skip != "" {
		skipOrFail(t, srv.skip)
	}
	if srv.err != nil {
		t.Fatalf("testenv: %v", srv.err)
	}
	cfg := s3blob.Config{
		Endpoint:  srv.endpoint,
		Region:    srv.region,
		AccessKey: srv.accessKey,
		SecretKey: srv.secretKey,
		UseSSL:    srv.secure,
		PathStyle: true,
		Bucket:    "lakebox-test-" + randomHex(8),
	}
	client, err := srv.client()
	if err != nil {
		t.Fatalf("testenv: S3 client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: srv.region}); err != nil {
		t.Fatalf("testenv: create bucket %q at %s: %v", cfg.Bucket, srv.endpoint, err)
	}
	t.Cleanup(func() { removeBucket(t, client, cfg.Bucket) })
	return cfg
}

// StopS3 stops the versitygw that S3 started, if any, and removes its
// directory. Calling it is optional (the gateway dies with the test process
// anyway); a TestMain may call it after m.Run to clean up at once.
func StopS3() {
	if s3Shared == nil || s3Shared.cmd == nil {
		return
	}
	_ = s3Shared.cmd.Process.Kill()
	_ = s3Shared.cmd.Wait()
	_ = os.RemoveAll(s3Shared.dir)
	s3Shared.err = errors.New("the shared versitygw was stopped by StopS3")
}

func (s *s3Server) client() (*minio.Client, error) {
	return minio.New(s.endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(s.accessKey, s.secretKey, ""),
		Secure:       s.secure,
		Region:       s.region,
		BucketLookup: minio.BucketLookupPath,
	})
}

// removeBucket deletes every object in bucket and then the bucket.
func removeBucket(t testing.TB, client *minio.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objects := client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true})
	for res := range client.RemoveObjects(ctx, bucket, objects, minio.RemoveObjectsOptions{}) {
		t.Logf("testenv: remove %s/%s: %v", bucket, res.ObjectName, res.Err)
	}
	if err := client.RemoveBucket(ctx, bucket); err != nil {
		t.Logf("testenv: remove bucket %s: %v", bucket, err)
	}
}

func startS3() *s3Server {
	if ep := os.Getenv(EnvS3Endpoint); ep != "" {
		srv := &s3Server{
			endpoint:  ep,
			secure:    true,
			accessKey: os.Getenv(EnvS3AccessKey),
			secretKey: os.Getenv(EnvS3SecretKey),
			region:    os.Getenv(EnvS3Region),
		}
		switch {
		case strings.HasPrefix(ep, "http://"):
			srv.endpoint, srv.secure = strings.TrimPrefix(ep, "http://"), false
		case strings.HasPrefix(ep, "https://"):
			srv.endpoint = strings.TrimPrefix(ep, "https://")
		}
		srv.endpoint = strings.TrimRight(srv.endpoint, "/")
		if srv.region == "" {
			srv.region = "us-east-1"
		}
		return srv
	}
	bin := findVersityGW()
	if bin == "" {
		return &s3Server{skip: s3SkipMessage}
	}
	srv := &s3Server{accessKey: gwAccessKey, secretKey: gwSecretKey, region: "us-east-1"}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("lakebox-versitygw-%d-", os.Getpid()))
	if err != nil {
		srv.err = fmt.Errorf("versitygw directory: %w", err)
		return srv
	}
	srv.dir = dir
	// A port picked by listening on :0 may be taken by the time versitygw
	// binds it; try a few.
	for range 3 {
		if srv.err = srv.startVersityGW(bin); srv.err == nil {
			return srv
		}
	}
	return srv
}

// findVersityGW returns the path of the versitygw binary, or "".
func findVersityGW() string {
	if p := os.Getenv(EnvVersityGW); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, gopath := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gopath, "bin", "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// startVersityGW starts bin on a free port and waits until it answers.
func (s *s3Server) startVersityGW(bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logPath := filepath.Join(s.dir, "versitygw.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	data := filepath.Join(s.dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	cmd := exec.Command(bin, "--access", s.accessKey, "--secret", s.secretKey, "--port", addr, "posix", data)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	setPdeathsig(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logPath)
			return fmt.Errorf("%s exited at start-up (%v): %s", bin, err, tail(out, 2000))
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			s.cmd, s.endpoint = cmd, addr
			// Wait has been called by the goroutine; StopS3 must not call it
			// again, so give it a command whose Wait returns at once.
			s.cmd = &exec.Cmd{Process: cmd.Process}
			return nil
		}
	}
	_ = cmd.Process.Kill()
	return fmt.Errorf("%s did not answer on %s within 20s; log in %s", bin, addr, logPath)
}

// setPdeathsig asks Linux to kill the child when this process dies. The
// field only exists on Linux, hence reflection rather than a build-tagged
// file.
func setPdeathsig(attr *syscall.SysProcAttr) {
	f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig")
	if f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
}

// removeStaleDirs removes directories of versitygw servers whose test
// process has died.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "lakebox-versitygw-*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), "lakebox-versitygw-")
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.Signal(0)) != nil {
			_ = os.RemoveAll(d)
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
