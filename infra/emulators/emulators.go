// Package emulators starts and stops the local stand-ins for the AWS services the platform uses
// (see shared/local-cloud.md): DynamoDB Local, moto (Step Functions), aws-ses-v2-local (SES v2)
// and mailpit (the outgoing PEC SMTP server).
//
// Everything listens on 127.0.0.1 only. The emulators are installed by
// infra/scripts/install-deps.sh ("make deps") into <repo>/.local and
// infra/emulators/ses/node_modules; moto is a Python prerequisite.
//
// Each emulator runs as a child process in its own process group, which receives SIGTERM if this
// process dies (Linux), and writes its output to <Dirs.Logs>/<name>.log. The ctx given to a Start
// function bounds the start-up (readiness wait) only: once started, an emulator runs until Stop.
package emulators

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	readyTimeout  = 30 * time.Second
	readyInterval = 100 * time.Millisecond
	stopGrace     = 5 * time.Second
	logTailLines  = 20

	// Host is the only address the emulators listen on.
	Host = "127.0.0.1"

	installHint = `run "make deps" (infra/scripts/install-deps.sh)`
)

// ErrNotInstalled is wrapped by the Start functions when a binary, jar or prerequisite is missing.
var ErrNotInstalled = errors.New("emulator not installed")

// Dirs: Root is the repo root; Local is Root/.local; Logs is where each emulator's stdout/stderr
// goes (one file each, <Logs>/<name>.log, truncated at each start: give concurrent instances of
// the same emulator different Logs directories).
type Dirs struct{ Root, Local, Logs string }

// DefaultDirs returns the usual layout for a repo root: Local = root/.local,
// Logs = root/.local/logs.
func DefaultDirs(root string) Dirs {
	local := filepath.Join(root, ".local")
	return Dirs{Root: root, Local: local, Logs: filepath.Join(local, "logs")}
}

// FindRoot walks up from the working directory to the directory holding go.mod.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("emulators: no go.mod found in the working directory or its parents")
		}
		dir = parent
	}
}

// FreePort returns a TCP port that is free on 127.0.0.1 at the time of the call. It is chosen at
// random below the kernel's ephemeral range (which outgoing connections draw from, so a port
// from there can be taken by any client socket before the emulator binds it), and never twice in
// one process.
func FreePort() (int, error) {
	lo, hi := portPoolRange()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 200 {
		p := lo + rand.IntN(hi-lo)
		if portsGiven[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		portsGiven[p] = true
		return p, nil
	}
	for range 20 { // fall back to a port the kernel picks
		l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsGiven[p] {
			portsGiven[p] = true
			return p, nil
		}
	}
	return 0, errors.New("emulators: no free port found")
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// portPoolRange is [lo, hi): from 15000 up to the start of the ephemeral range (Linux:
// /proc/sys/net/ipv4/ip_local_port_range, usually 32768).
func portPoolRange() (int, int) {
	const lo, defaultHi = 15000, 32768
	hi := defaultHi
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				hi = v
			}
		}
	}
	if hi-lo < 1000 {
		return 20000, 30000
	}
	return lo, hi
}

// Process is a running emulator.
type Process struct {
	Name string // "dynamodb", "moto", "ses", "mailpit"
	URL  string // http://127.0.0.1:<port> (for mailpit: its web UI / API)

	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{} // closed when the process has exited and been reaped
	waitErr error         // valid after done is closed

	stopOnce sync.Once
	stopErr  error
}

// LogPath is the file holding the emulator's stdout and stderr.
func (p *Process) LogPath() string { return p.logPath }

// Alive reports whether the process is still running.
func (p *Process) Alive() bool {
	if p == nil || p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM to the process group, waits up to 5 s, then sends SIGKILL. It is idempotent
// and safe on a process that has already exited.
func (p *Process) Stop() error {
	if p == nil || p.cmd == nil {
		return nil
	}
	p.stopOnce.Do(func() {
		p.stopErr = p.stop()
		if p.logFile != nil {
			p.logFile.Close()
		}
	})
	return p.stopErr
}

func (p *Process) stop() error {
	pgid := p.cmd.Process.Pid // Setpgid: the group id is the leader's pid
	select {
	case <-p.done:
		// The leader is gone; take down anything it left in its group.
		killGroup(pgid, true)
		return nil
	default:
	}
	if err := killGroup(pgid, false); err != nil {
		return fmt.Errorf("emulators: stop %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
		killGroup(pgid, true) // stragglers that ignored SIGTERM
		return nil
	case <-time.After(stopGrace):
	}
	if err := killGroup(pgid, true); err != nil {
		return fmt.Errorf("emulators: kill %s: %w", p.Name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
		return fmt.Errorf("emulators: %s (pid %d) did not exit after SIGKILL", p.Name, pgid)
	}
}

// spec describes how to run and probe one emulator.
type spec struct {
	name     string
	path     string   // the program
	args     []string // its arguments
	dir      string   // working directory ("" = inherit)
	env      []string // full environment (nil = inherit)
	needs    []string // files that must exist (installed by install-deps.sh)
	ports    []int    // ports it will listen on: must be free before it starts
	what     string   // human name for errors
	url      string
	ready    func(ctx context.Context, c *http.Client) bool
	notFound []string // log substrings meaning "a prerequisite is missing"
}

// probeClient talks to 127.0.0.1 only, never through a proxy.
var probeClient = &http.Client{
	Timeout: 2 * time.Second,
	Transport: &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{Timeout: time.Second}).DialContext,
	},
}

// answers reports whether req got any HTTP response.
func answers(ctx context.Context, c *http.Client, method, url string, header map[string]string, body string) bool {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return false
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

// getAnswers is a readiness check: GET url gets any HTTP answer.
func getAnswers(url string) func(context.Context, *http.Client) bool {
	return func(ctx context.Context, c *http.Client) bool {
		return answers(ctx, c, http.MethodGet, url, nil, "")
	}
}

func checkFiles(s spec) error {
	for _, f := range s.needs {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("emulators: %s: %s is missing; %s: %w", s.what, f, installHint, ErrNotInstalled)
		}
	}
	return nil
}

func lookPath(what, prog, howto string) (string, error) {
	p, err := exec.LookPath(prog)
	if err != nil {
		return "", fmt.Errorf("emulators: %s: %q not found on PATH (%s; %s checks it): %w",
			what, prog, howto, installHint, ErrNotInstalled)
	}
	return p, nil
}

func start(ctx context.Context, d Dirs, s spec) (*Process, error) {
	if err := checkFiles(s); err != nil {
		return nil, err
	}
	for _, port := range s.ports {
		if err := portFree(port); err != nil {
			return nil, fmt.Errorf("emulators: %s: port %d on %s is not free: %w", s.what, port, Host, err)
		}
	}
	if d.Logs == "" {
		return nil, errors.New("emulators: Dirs.Logs is empty")
	}
	if err := os.MkdirAll(d.Logs, 0o755); err != nil {
		return nil, fmt.Errorf("emulators: %w", err)
	}
	logPath := filepath.Join(d.Logs, s.name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("emulators: %w", err)
	}

	cmd := exec.Command(s.path, s.args...)
	cmd.Dir = s.dir
	cmd.Env = s.env
	cmd.Stdin = nil
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	started := time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("emulators: start %s: %w", s.what, err)
	}
	p := &Process{Name: s.name, URL: s.url, cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()

	fail := func(format string, args ...any) (*Process, error) {
		p.Stop()
		msg := fmt.Sprintf(format, args...)
		tail := logTail(logPath, logTailLines)
		for _, marker := range s.notFound {
			if strings.Contains(tail, marker) {
				return nil, fmt.Errorf("emulators: %s: %s; %s; last lines of %s:\n%s: %w",
					s.what, msg, installHint, logPath, tail, ErrNotInstalled)
			}
		}
		return nil, fmt.Errorf("emulators: %s: %s; last lines of %s:\n%s", s.what, msg, logPath, tail)
	}

	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(readyInterval)
	defer tick.Stop()
	for {
		probeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok := s.ready(probeCtx, probeClient)
		cancel()
		if ok {
			return p, nil
		}
		select {
		case <-p.done:
			return fail("exited during start-up (%v) after %v", p.waitErr, time.Since(started).Round(time.Millisecond))
		case <-ctx.Done():
			return fail("start-up interrupted: %v", ctx.Err())
		case <-deadline.C:
			return fail("not ready after %v", readyTimeout)
		case <-tick.C:
		}
	}
}

// logTail returns the last n lines of the file at path.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return "(log empty)"
	}
	return strings.Join(lines, "\n")
}

// childEnv returns the parent's environment without the variables matching drop, with set added,
// and with 127.0.0.1/localhost in NO_PROXY so that calls between local services never go through
// a proxy.
func childEnv(drop func(key string) bool, set ...string) []string {
	var env []string
	noProxy := "127.0.0.1,localhost"
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "NO_PROXY" || k == "no_proxy":
			if v != "" {
				noProxy = v + "," + noProxy
			}
			continue
		case drop != nil && drop(k):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "NO_PROXY="+noProxy, "no_proxy="+noProxy)
	return append(env, set...)
}

// portFree checks that 127.0.0.1:port can be listened on, allowing ~300 ms for a transient
// holder (another process probing ports, as FreePort does) to let go.
func portFree(port int) error {
	var err error
	for i := 0; i < 10; i++ {
		var l net.Listener
		if l, err = net.Listen("tcp", net.JoinHostPort(Host, strconv.Itoa(port))); err == nil {
			l.Close()
			return nil
		}
		time.Sleep(30 * time.Millisecond)
	}
	return err
}

// smtpGreets reports whether 127.0.0.1:port sends an SMTP 220 greeting containing want.
func smtpGreets(ctx context.Context, port int, want string) bool {
	conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(ctx, "tcp", net.JoinHostPort(Host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return false
	}
	conn.Write([]byte("QUIT\r\n"))
	return strings.HasPrefix(line, "220") && strings.Contains(line, want)
}

func baseURL(port int) string { return "http://" + net.JoinHostPort(Host, strconv.Itoa(port)) }

// StartDynamoDB starts DynamoDB Local 1.25.1 in memory with -sharedDb (the Step Functions
// interpreter signs with other credentials) on 127.0.0.1:port. DynamoDB Local can only listen
// on every interface, so it runs through the small launcher compiled by the install script
// (infra/emulators/dynamodb/LoopbackDynamoDBLocal.java), which binds it to 127.0.0.1.
// Ready when a ListTables POST gets an HTTP answer.
func StartDynamoDB(ctx context.Context, d Dirs, port int) (*Process, error) {
	const what = "DynamoDB Local"
	java, err := lookPath(what, "java", "install a Java 17+ JDK: apt-get install -y openjdk-17-jdk-headless")
	if err != nil {
		return nil, err
	}
	home := filepath.Join(d.Local, "dynamodb")
	jar := filepath.Join(home, "DynamoDBLocal.jar")
	lib := filepath.Join(home, "DynamoDBLocal_lib")
	launcher := filepath.Join(d.Local, "dynamodb-launcher")
	url := baseURL(port)
	return start(ctx, d, spec{
		name: "dynamodb",
		what: what,
		path: java,
		args: []string{
			"-Djava.library.path=" + lib,
			"-Ddynamodb.local.host=" + Host,
			"-XX:TieredStopAtLevel=1", // faster start-up; plenty for a local emulator
			"-cp", launcher + string(os.PathListSeparator) + jar,
			"LoopbackDynamoDBLocal",
			"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port),
		},
		dir:   home,
		needs: []string{jar, lib, filepath.Join(launcher, "LoopbackDynamoDBLocal.class")},
		ports: []int{port},
		url:   url,
		ready: func(ctx context.Context, c *http.Client) bool {
			return answers(ctx, c, http.MethodPost, url+"/", map[string]string{
				"X-Amz-Target": "DynamoDB_20120810.ListTables",
				"Content-Type": "application/x-amz-json-1.0",
			}, "{}")
		},
	})
}

// StartMoto starts moto's server (for Step Functions) through infra/moto/server.py, which switches
// the ASL interpreter on and fixes moto 5.2.1's second-execution bug, on 127.0.0.1:port.
// MOTO_PORT is set to lambdaEndpointPort: the interpreter sends its task calls (Lambda invokes,
// dynamodb:*, aws-sdk:*) to http://localhost:<lambdaEndpointPort>, the Go host. Credentials ak/sk,
// region eu-south-1; other AWS_* variables of this process are not passed on.
// Ready when GET /moto-api/ answers.
func StartMoto(ctx context.Context, d Dirs, port int, lambdaEndpointPort int) (*Process, error) {
	const what = "moto (Step Functions)"
	py, err := lookPath(what, "python3", `install Python 3 and pip install "moto[server]==5.2.1"`)
	if err != nil {
		return nil, err
	}
	script := filepath.Join(d.Root, "infra", "moto", "server.py")
	url := baseURL(port)
	return start(ctx, d, spec{
		name: "moto",
		what: what,
		path: py,
		args: []string{script, strconv.Itoa(port)},
		dir:  d.Root,
		env: childEnv(func(k string) bool { return strings.HasPrefix(k, "AWS_") || k == "MOTO_PORT" },
			"MOTO_PORT="+strconv.Itoa(lambdaEndpointPort),
			"AWS_ACCESS_KEY_ID=ak",
			"AWS_SECRET_ACCESS_KEY=sk",
			"AWS_DEFAULT_REGION=eu-south-1",
			"AWS_REGION=eu-south-1",
			"PYTHONUNBUFFERED=1",
		),
		needs:    []string{script},
		ports:    []int{port},
		url:      url,
		ready:    getAnswers(url + "/moto-api/"),
		notFound: []string{"No module named 'moto'", "No module named 'flask'", "No module named 'werkzeug'"},
	})
}

// StartSES starts aws-ses-v2-local 2.10.2 on 127.0.0.1:port. Ready when GET /store answers.
func StartSES(ctx context.Context, d Dirs, port int) (*Process, error) {
	const what = "aws-ses-v2-local (SES v2)"
	node, err := lookPath(what, "node", "install Node.js 20")
	if err != nil {
		return nil, err
	}
	cli := filepath.Join(d.Root, "infra", "emulators", "ses", "node_modules", "aws-ses-v2-local", "dist", "cli.js")
	url := baseURL(port)
	return start(ctx, d, spec{
		name:  "ses",
		what:  what,
		path:  node,
		args:  []string{cli, "--port", strconv.Itoa(port), "--host", Host},
		dir:   filepath.Join(d.Root, "infra", "emulators", "ses"),
		needs: []string{cli},
		ports: []int{port},
		url:   url,
		ready: getAnswers(url + "/store"),
	})
}

// StartMailpit starts mailpit with SMTP on 127.0.0.1:smtpPort and its web UI and API on
// 127.0.0.1:httpPort (URL). SMTP accepts any credentials or none, without TLS; no reverse DNS,
// no version check; messages are kept in a temporary database removed on exit.
// Ready when GET /api/v1/messages answers.
func StartMailpit(ctx context.Context, d Dirs, smtpPort, httpPort int) (*Process, error) {
	bin := filepath.Join(d.Local, "bin", "mailpit")
	url := baseURL(httpPort)
	return start(ctx, d, spec{
		name: "mailpit",
		what: "mailpit (SMTP)",
		path: bin,
		args: []string{
			"--smtp", net.JoinHostPort(Host, strconv.Itoa(smtpPort)),
			"--listen", net.JoinHostPort(Host, strconv.Itoa(httpPort)),
			"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
			"--smtp-disable-rdns", "--disable-version-check",
		},
		dir: d.Local,
		// MP_* variables configure mailpit too: keep only what is set here.
		env:   childEnv(func(k string) bool { return strings.HasPrefix(k, "MP_") }),
		needs: []string{bin},
		ports: []int{smtpPort, httpPort},
		url:   url,
		// mailpit serves HTTP before it binds SMTP (and exits if that fails): wait for both.
		ready: func(ctx context.Context, c *http.Client) bool {
			return getAnswers(url+"/api/v1/messages")(ctx, c) && smtpGreets(ctx, smtpPort, "Mailpit")
		},
	})
}
