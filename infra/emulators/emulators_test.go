package emulators

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testDirs uses the repo's .local and a per-test log directory.
func testDirs(t *testing.T) Dirs {
	t.Helper()
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultDirs(root)
	d.Logs = t.TempDir()
	return d
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// started handles a Start* result: a missing installation skips the test on a developer's
// machine and fails it in CI (CI=true), where install-deps.sh must have run.
func started(t *testing.T, p *Process, err error) *Process {
	t.Helper()
	if err != nil {
		if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
			t.Skipf("emulator not installed (run infra/scripts/install-deps.sh; with CI=true this fails): %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// stopAndCheck stops p, checks it is gone, that Stop is idempotent and that the ports are free.
func stopAndCheck(t *testing.T, p *Process, ports ...int) {
	t.Helper()
	t0 := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("%s stopped in %v", p.Name, time.Since(t0).Round(time.Millisecond))
	if p.Alive() {
		t.Fatalf("%s still alive after Stop", p.Name)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	for _, port := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(port)))
		if err != nil {
			t.Fatalf("port %d not freed after Stop: %v", port, err)
		}
		l.Close()
	}
}

// checkLoopbackOnly checks (Linux) that whatever listens on port listens on 127.0.0.1 only.
func checkLoopbackOnly(t *testing.T, port int) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	addrs := listeners(t, port)
	if len(addrs) == 0 {
		t.Fatalf("nothing listens on port %d", port)
	}
	for _, a := range addrs {
		if !a.IsLoopback() {
			t.Errorf("port %d: listening on %v, want 127.0.0.1 only", port, a)
		}
	}
}

// listeners returns the local addresses in LISTEN state on port, from /proc/net/tcp{,6}.
func listeners(t *testing.T, port int) []net.IP {
	t.Helper()
	var ips []net.IP
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // 0A = LISTEN
				continue
			}
			hexIP, hexPort, _ := strings.Cut(fields[1], ":")
			if p, _ := strconv.ParseUint(hexPort, 16, 16); int(p) != port {
				continue
			}
			raw, err := hex.DecodeString(hexIP)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for i := 0; i+4 <= len(raw); i += 4 { // each 32-bit word is in host (little-endian) order
				raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
			}
			ips = append(ips, net.IP(raw))
		}
		fh.Close()
	}
	return ips
}

// testClient is patient: a freshly started JVM answers its first requests slowly on a loaded
// machine (the readiness probes use a short timeout; a test's own request need not).
var testClient = &http.Client{Timeout: 30 * time.Second}

func httpDo(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf strings.Builder
	if _, err := bufio.NewReader(resp.Body).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return resp, []byte(buf.String())
}

func TestFindRoot(t *testing.T) {
	root, err := FindRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "module github.com/pecplatform/pec") {
		t.Fatalf("FindRoot = %s, whose go.mod is not the platform's", root)
	}
}

func TestFreePort(t *testing.T) {
	_, hi := portPoolRange()
	seen := map[int]bool{}
	for range 50 {
		p := freePort(t)
		if p <= 0 || p >= hi {
			t.Fatalf("FreePort = %d, want a port below the ephemeral range (%d)", p, hi)
		}
		if seen[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d from FreePort is not free: %v", p, err)
		}
		l.Close()
	}
}

// A Dirs without installation gives ErrNotInstalled with the missing file and the install hint.
func TestNotInstalled(t *testing.T) {
	empty := t.TempDir()
	d := Dirs{Root: empty, Local: filepath.Join(empty, ".local"), Logs: t.TempDir()}
	ctx := context.Background()
	cases := map[string]func() (*Process, error){
		"dynamodb": func() (*Process, error) { return StartDynamoDB(ctx, d, 1) },
		"moto":     func() (*Process, error) { return StartMoto(ctx, d, 1, 2) },
		"ses":      func() (*Process, error) { return StartSES(ctx, d, 1) },
		"mailpit":  func() (*Process, error) { return StartMailpit(ctx, d, 1, 2) },
	}
	for name, startFn := range cases {
		p, err := startFn()
		if err == nil {
			p.Stop()
			t.Fatalf("%s: started without an installation", name)
		}
		if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), empty) ||
			!strings.Contains(err.Error(), "install-deps.sh") {
			t.Errorf("%s: error should wrap ErrNotInstalled, name the missing file under %s and the install script: %v",
				name, empty, err)
		}
	}
}

// Stop takes down the whole process group, children included.
func TestStopKillsGroup(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	d := Dirs{Logs: t.TempDir()}
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	p, err := start(context.Background(), d, spec{
		name: "group", what: "group test", path: "sh",
		// The child ignores SIGTERM, so Stop must escalate to SIGKILL for the group.
		args:  []string{"-c", `sh -c 'trap "" TERM; sleep 300' & echo $! > ` + pidFile + `; wait`},
		ready: func(context.Context, *http.Client) bool { _, err := os.Stat(pidFile); return err == nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	b, _ := os.ReadFile(pidFile)
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("child pid %q: %v", b, err)
	}
	t0 := time.Now()
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("group stopped in %v", time.Since(t0).Round(time.Millisecond))
	if p.Alive() {
		t.Fatal("leader alive after Stop")
	}
	deadline := time.Now().Add(2 * time.Second)
	for processExists(child) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d survived Stop", child)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processExists: a reaped-or-zombie check through /proc where available, else signal 0.
func processExists(pid int) bool {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		f := strings.Fields(string(b))
		return len(f) > 2 && f[2] != "Z"
	} else if runtime.GOOS == "linux" {
		return false
	}
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// A process that dies during start-up gives an error quoting the end of its log.
func TestEarlyExit(t *testing.T) {
	d := Dirs{Logs: t.TempDir()}
	t0 := time.Now()
	p, err := start(context.Background(), d, spec{
		name: "early", what: "early-exit test", path: "sh",
		args:  []string{"-c", `for i in $(seq 1 40); do echo "line $i"; done; echo "fatal: boom" >&2; exit 3`},
		ready: func(context.Context, *http.Client) bool { return false },
	})
	if err == nil {
		p.Stop()
		t.Fatal("started")
	}
	t.Logf("failed in %v: %v", time.Since(t0).Round(time.Millisecond), err)
	msg := err.Error()
	if time.Since(t0) > 5*time.Second || !strings.Contains(msg, "exited during start-up") ||
		!strings.Contains(msg, "exit status 3") || !strings.Contains(msg, "fatal: boom") ||
		!strings.Contains(msg, "line 40") || strings.Contains(msg, "line 20\n") || !strings.Contains(msg, "early.log") {
		t.Fatalf("want a prompt error with the exit status and the last 20 log lines: %v", err)
	}
}

// A port already in use is refused before anything starts (a probe could reach the other
// listener and report a false ready).
func TestBusyPort(t *testing.T) {
	d := testDirs(t)
	busy, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	p, err := StartMailpit(context.Background(), d, port, freePort(t))
	if errors.Is(err, ErrNotInstalled) && os.Getenv("CI") != "true" {
		t.Skipf("mailpit not installed: %v", err)
	}
	if err == nil {
		p.Stop()
		t.Fatal("mailpit started on a busy port")
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("port %d", port)) || !strings.Contains(err.Error(), "not free") {
		t.Fatalf("error should name busy port %d: %v", port, err)
	}
}

func TestDynamoDB(t *testing.T) {
	t.Parallel()
	d, port := testDirs(t), freePort(t)
	t0 := time.Now()
	p, err := StartDynamoDB(t.Context(), d, port)
	p = started(t, p, err)
	t.Logf("DynamoDB Local ready in %v at %s", time.Since(t0).Round(time.Millisecond), p.URL)
	checkLoopbackOnly(t, port)

	req, _ := http.NewRequest(http.MethodPost, p.URL+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ak/20260101/eu-south-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	resp, body := httpDo(t, req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"TableNames"`) {
		t.Fatalf("ListTables: %d %s", resp.StatusCode, body)
	}
	stopAndCheck(t, p, port)
}

func TestMoto(t *testing.T) {
	t.Parallel()
	d, port := testDirs(t), freePort(t)
	t0 := time.Now()
	p, err := StartMoto(t.Context(), d, port, freePort(t))
	p = started(t, p, err)
	t.Logf("moto ready in %v at %s", time.Since(t0).Round(time.Millisecond), p.URL)
	checkLoopbackOnly(t, port)

	// Three executions in a row must succeed: the interpreter is on and moto#10077 is patched.
	cmd := exec.Command("python3", filepath.Join(d.Root, "infra", "moto", "selfcheck.py"), p.URL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("selfcheck: %v\n%s\nmoto log:\n%s", err, out, logTail(p.LogPath(), 30))
	}
	t.Logf("selfcheck:\n%s", out)
	stopAndCheck(t, p, port)
}

func TestSES(t *testing.T) {
	t.Parallel()
	d, port := testDirs(t), freePort(t)
	t0 := time.Now()
	p, err := StartSES(t.Context(), d, port)
	p = started(t, p, err)
	t.Logf("aws-ses-v2-local ready in %v at %s", time.Since(t0).Round(time.Millisecond), p.URL)
	checkLoopbackOnly(t, port)

	req, _ := http.NewRequest(http.MethodGet, p.URL+"/store", nil)
	resp, body := httpDo(t, req)
	var store struct {
		Emails []json.RawMessage `json:"emails"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &store) != nil || store.Emails == nil {
		t.Fatalf("GET /store: %d %s", resp.StatusCode, body)
	}
	stopAndCheck(t, p, port)
}

func TestMailpit(t *testing.T) {
	t.Parallel()
	d, smtpPort, httpPort := testDirs(t), freePort(t), freePort(t)
	t0 := time.Now()
	p, err := StartMailpit(t.Context(), d, smtpPort, httpPort)
	p = started(t, p, err)
	t.Logf("mailpit ready in %v at %s", time.Since(t0).Round(time.Millisecond), p.URL)
	checkLoopbackOnly(t, smtpPort)
	checkLoopbackOnly(t, httpPort)

	msg := "From: sender@pec.example\r\nTo: rcpt@pec.example\r\nSubject: emulator test\r\n\r\nhello\r\n"
	if err := smtp.SendMail(net.JoinHostPort(Host, strconv.Itoa(smtpPort)), nil,
		"sender@pec.example", []string{"rcpt@pec.example"}, []byte(msg)); err != nil {
		t.Fatalf("SMTP send: %v", err)
	}
	var list struct {
		Total    int `json:"total"`
		Messages []struct {
			Subject string `json:"Subject"`
		} `json:"messages"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, p.URL+"/api/v1/messages", nil)
		_, body := httpDo(t, req)
		if err := json.Unmarshal(body, &list); err != nil {
			t.Fatalf("messages: %v: %s", err, body)
		}
		if len(list.Messages) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(list.Messages) != 1 || list.Messages[0].Subject != "emulator test" {
		t.Fatalf("messages after one SMTP send: %+v", list)
	}
	stopAndCheck(t, p, smtpPort, httpPort)
}
