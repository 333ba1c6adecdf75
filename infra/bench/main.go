// Command bench imports n generated members and exports n INI-PEC changes against DynamoDB Local
// and prints, in one run, each path's time next to its floor (the bare DynamoDB requests the path
// must make, issued directly) and each path's peak memory. `make bench`; BENCH_N=10000 for a
// quick run.
//
// Without a subcommand it is the driver: it starts the local cloud on free ports (localcloud.Start),
// runs every measurement as a child process of its own binary, so that a child's peak RSS is
// that path's alone, prints the summary and stops everything. The subcommands are the children:
//
//	warmup        a small import-floor and its reads, untimed: DynamoDB Local's JIT warms up
//	import-floor  per member one BatchGetItem of the 8 candidate addresses and one
//	              TransactWriteItems of the 5 items CreateMember writes, 8 at a time
//	import        the CSV is PUT to the import's pre-signed URL (untimed), then app.Imports.Run
//	              streams it from the bucket and enrols it (timed): the real import job
//	export-setup  n members with their own PEC and n changes in the Order's INI-PEC outbox,
//	              BatchWriteItem, untimed
//	export-floor  the outbox Query pages and the member BatchGetItems (100 keys) of the export
//	export        app.INIPEC.Sync: outbox, members, file, archive, delivery to the stand-in
//	enrol         enrolments through the host's API, interleaved with their floor (lifecycle.go)
//	click         activation clicks (GET + POST) through the host, interleaved with their floor
//	cost          a batch along the happy path: state transitions and, counted by the driver
//	              at the host's forwarder, DynamoDB writes per mailbox
//	scale         one Order's batch of BENCH_N (2 000) mailboxes from enrolment to ATTIVATA,
//	              clicks included, checked for losses and repeats; the driver reads the peak
//	              RSS and CPU time of the host and of every emulator meanwhile (scale.go)
//
// The floors run before their paths, so a path never meets a smaller table than its floor.
// BENCH_PROFILE=<dir> makes every child write a CPU profile of its timed section there, and
// the profile of its allocations; BENCH_PATHS=import or export measures one path only.
//
// Before all of them (BENCH_PATHS=bootstrap: alone, without the local cloud) it sizes each
// function's bootstrap and starts it against a Lambda Runtime API stand-in (bootstrap.go).
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
	"github.com/pecplatform/pec/shared/wire"
)

const region = localcloud.Region

// Targets.
const (
	targetRatio = 1.5
	targetRSSMB = 100
)

type params struct {
	n            int
	order, salt  string
	profile, sub string
}

// result is what a child prints (one JSON line on stdout).
type result struct {
	Seconds     float64        `json:"seconds"`
	CPUSeconds  float64        `json:"cpuSeconds"`  // this process's CPU time in the timed section
	MachineBusy float64        `json:"machineBusy"` // share of all the machine's CPUs busy in it
	Rows        int            `json:"rows"`
	Ops         map[string]int `json:"ops"`
	VmHWMKB     int64          `json:"vmHWMKB"`
	Notes       []string       `json:"notes"`
	// The paths through the host: request latencies by kind (path, floor), and other figures.
	Latency map[string]latencyStats `json:"latency,omitempty"`
	Extra   map[string]float64      `json:"extra,omitempty"`
}

func main() {
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		if err := child(os.Args[1], os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	if err := driver(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// --- the children ---

var children = map[string]func(context.Context, env, params, *timer) error{
	"warmup":       runWarmup,
	"import-floor": runImportFloor,
	"import":       runImport,
	"export-setup": runExportSetup,
	"export-floor": runExportFloor,
	"export":       runExport,
	"enrol":        runEnrol,
	"click":        runClick,
	"cost":         runCost,
	"scale":        runScale,
}

func child(sub string, args []string) error {
	run, ok := children[sub]
	if !ok {
		return fmt.Errorf("unknown subcommand (want one of warmup, import-floor, import, export-setup, export-floor, export, enrol, click, cost, scale)")
	}
	fs := flag.NewFlagSet(sub, flag.ContinueOnError)
	p := params{sub: sub}
	fs.IntVar(&p.n, "n", 0, "members")
	fs.StringVar(&p.order, "order", "", "the Order")
	fs.StringVar(&p.salt, "salt", "Q", "one upper-case letter that keeps this run's addresses apart")
	fs.StringVar(&p.profile, "profile", "", "write a CPU profile of the timed section to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if p.n <= 0 || p.order == "" {
		return fmt.Errorf("-n and -order are required")
	}
	e, err := envFromOS()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := &timer{profile: p.profile}
	if err := run(ctx, e, p, t); err != nil {
		return err
	}
	r := t.result()
	r.VmHWMKB = vmHWM()
	if p.profile != "" {
		runtime.GC() // the profile is as of the last GC: include the end of the run
		if f, err := os.Create(strings.TrimSuffix(p.profile, ".cpu.pprof") + ".allocs.pprof"); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// timer measures a child's timed section: wall time, its own CPU time, the machine's load.
type timer struct {
	profile        string
	pf             *os.File
	t0, t1         time.Time
	cpu0, cpu1     time.Duration
	busy0, total0  uint64
	busy1, total1  uint64
	rows           int
	ops            map[string]int
	notes          []string
	latency        map[string]latencyStats
	extra          map[string]float64
	profileStarted bool
}

func (t *timer) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

func (t *timer) start() {
	if t.profile != "" {
		if f, err := os.Create(t.profile); err == nil && pprof.StartCPUProfile(f) == nil {
			t.pf, t.profileStarted = f, true
		}
	}
	t.busy0, t.total0 = machineCPU()
	t.cpu0 = processCPU()
	t.t0 = time.Now()
}

func (t *timer) stop() {
	t.t1 = time.Now()
	t.cpu1 = processCPU()
	t.busy1, t.total1 = machineCPU()
	if t.profileStarted {
		pprof.StopCPUProfile()
		t.pf.Close()
		t.note("CPU profile: %s", t.profile)
	}
}

func (t *timer) result() result {
	r := result{Seconds: t.t1.Sub(t.t0).Seconds(), CPUSeconds: (t.cpu1 - t.cpu0).Seconds(), Rows: t.rows, Ops: t.ops, Notes: t.notes,
		Latency: t.latency, Extra: t.extra}
	if t.total1 > t.total0 {
		r.MachineBusy = float64(t.busy1-t.busy0) / float64(t.total1-t.total0)
	}
	return r
}

// machineCPU reads the busy and total jiffies of all CPUs from /proc/stat (0, 0 elsewhere).
func machineCPU() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:] {
		x, _ := strconv.ParseUint(v, 10, 64)
		total += x
		if i != 3 && i != 4 { // idle, iowait
			busy += x
		}
	}
	return busy, total
}

// vmHWM is this process's peak resident set size in kB, from /proc/self/status (0 elsewhere).
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return v
		}
	}
	return 0
}

// --- the driver ---

type measured struct {
	result
	wall     time.Duration  // the child's whole life
	maxRSSKB int64          // the child's peak RSS (VmHWM)
	hostOps  map[string]int // the AWS requests the host forwarded while the child ran
	procs    []procFigure   // the scale path: the local cloud's processes while the child ran
}

var allPaths = []string{"bootstrap", "import", "export", "enrol", "click", "cost", "scale"}

// benchParameters lift the API's throttling: the paths through the host measure latency, and
// every request comes from one client. The waits stay the template's (days): no reminder
// fires during a run.
var benchParameters = map[string]string{
	"ThrottleRateLimit": "100000", "ThrottleBurstLimit": "100000",
	"PageThrottleRateLimit": "100000", "PageThrottleBurstLimit": "100000",
	"ProviderCallbackThrottleRateLimit": "100000", "ProviderCallbackThrottleBurstLimit": "100000",
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(strings.ReplaceAll(os.Getenv(name), "_", "")); err == nil && v > 0 {
		return v
	}
	return def
}

func driver() error {
	defN := 100_000
	if v := os.Getenv("BENCH_N"); v != "" {
		var err error
		if defN, err = strconv.Atoi(strings.ReplaceAll(v, "_", "")); err != nil || defN <= 0 {
			return fmt.Errorf("BENCH_N=%q is not a positive number", v)
		}
	}
	n := flag.Int("n", defN, "members to import and changes to export (env BENCH_N)")
	profileDir := flag.String("profile", os.Getenv("BENCH_PROFILE"), "write each child's CPU profile to this directory (env BENCH_PROFILE)")
	paths := flag.String("paths", cmp.Or(os.Getenv("BENCH_PATHS"), "bootstrap,import,export,enrol,click,cost"), "the paths to measure (env BENCH_PATHS)")
	enrolN := flag.Int("enrol-n", envInt("BENCH_ENROL_N", 500), "enrolments through the host, and as many by the floor (env BENCH_ENROL_N)")
	clickN := flag.Int("click-n", envInt("BENCH_CLICK_N", 50), "activation clicks through the host, and as many by the floor (env BENCH_CLICK_N)")
	costN := flag.Int("cost-n", envInt("BENCH_COST_N", 50), "mailboxes in the batch the cost path counts (env BENCH_COST_N)")
	scaleN := flag.Int("scale-n", envInt("BENCH_SCALE_N", envInt("BENCH_N", 2000)), "mailboxes in the scale path's batch (env BENCH_SCALE_N, else BENCH_N)")
	builds := flag.String("bootstraps", ".local/build", "the bootstraps to size: <dir>/<LogicalId>/bootstrap (make build)")
	native := flag.String("native", "", "the same bootstraps built for this machine, to start (default: -bootstraps)")
	nativeNote := flag.String("native-note", "", "how the -native bootstraps differ from the deployed ones, for the summary")
	runs := flag.Int("bootstrap-runs", 5, "starts of each bootstrap")
	flag.Parse()
	want := map[string]bool{}
	for _, p := range strings.Split(*paths, ",") {
		if p = strings.TrimSpace(p); !slices.Contains(allPaths, p) {
			return fmt.Errorf("-paths: %q is none of %s", p, strings.Join(allPaths, ", "))
		}
		want[p] = true
	}

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The bootstraps first, before DynamoDB Local takes the machine's CPUs.
	var bootstraps []bootstrapResult
	if want["bootstrap"] {
		fmt.Fprintf(os.Stderr, "bench: starting each bootstrap in %s %d times...\n", cmp.Or(*native, *builds), *runs)
		if bootstraps, err = measureBootstraps(ctx, *builds, cmp.Or(*native, *builds), max(*runs, 1)); err != nil {
			return err
		}
		if len(want) == 1 {
			printBootstraps(os.Stdout, bootstraps, max(*runs, 1), *nativeNote)
			return nil
		}
	}

	// The functions the host runs log each request: to a file, not into the summary.
	if err := os.MkdirAll(filepath.Join(".local", "bench"), 0o755); err != nil {
		return err
	}
	flog, err := os.Create(filepath.Join(".local", "bench", "functions.log"))
	if err != nil {
		return err
	}
	defer flog.Close()
	wire.LogOutput = flog
	fmt.Fprintf(os.Stderr, "bench: starting the local cloud (DynamoDB Local, moto, host) on free ports...\n")
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	counter := &hostCounter{}
	cfg := localcloud.Config{Intercept: counter.intercept, Parameters: benchParameters}
	if want["scale"] {
		cfg.Parameters, cfg.ProviderDelay = scaleParameters(), scaleProviderDelay
	}
	c, err := localcloud.Start(startCtx, cfg)
	cancel()
	if err != nil {
		return fmt.Errorf("start the local cloud: %w", err)
	}
	defer c.Close()
	tables := c.Host.Tables()
	// The files bucket (uploads and the INI-PEC archive), not the members' documents bucket.
	files := slices.DeleteFunc(c.Host.Buckets(), func(b string) bool { return !strings.Contains(b, "-files-") })
	if len(tables) != 1 || len(files) != 1 {
		return fmt.Errorf("want one table and one files bucket, the template has %v and %v", tables, c.Host.Buckets())
	}
	e := env{DynamoDBURL: c.DynamoDBURL, S3URL: c.MotoURL, Table: tables[0], Bucket: files[0],
		INIPECURL: c.APIURL + "/_local/inipec", INIPECToken: localcloud.INIPECToken,
		APIURL: c.APIURL, SESURL: c.SESURL, KeyDir: c.KeyDir, ProviderURL: c.ProviderURL}
	fmt.Fprintf(os.Stderr, "bench: DynamoDB Local %s, table %s; moto %s, bucket %s; n = %d\n", e.DynamoDBURL, e.Table, e.S3URL, e.Bucket, *n)

	stamp := strings.ToUpper(strconv.FormatInt(time.Now().Unix(), 36))
	order := func(suffix string) string { return "BENCH-" + stamp + "-" + suffix }
	type step struct {
		label, sub, order, salt string
		n                       int
	}
	steps := []step{{"warmup", "warmup", order("W"), "W", min(*n, 3000)}}
	if want["import"] {
		steps = append(steps,
			step{"import-floor", "import-floor", order("IF"), "F", *n},
			step{"import", "import", order("I"), "Q", *n})
	}
	if want["export"] {
		// The export's reads change nothing, so its floor runs on both sides of it and the
		// faster run counts: neither the setup's aftermath nor the order favours the path.
		steps = append(steps,
			step{"export-setup", "export-setup", order("E"), "E", *n},
			step{"export-floor", "export-floor", order("E"), "E", *n},
			step{"export", "export", order("E"), "E", *n},
			step{"export-floor-2", "export-floor", order("E"), "E", *n})
	}
	if want["enrol"] {
		steps = append(steps, step{"enrol", "enrol", order("N"), "N", *enrolN})
	}
	if want["click"] {
		steps = append(steps, step{"click", "click", order("C"), "C", *clickN})
	}
	if want["cost"] {
		steps = append(steps, step{"cost", "cost", order("K"), "K", *costN})
	}
	if want["scale"] {
		steps = append(steps, step{"scale", "scale", order("S"), "S", *scaleN})
	}
	got := map[string]measured{}
	var labels []string
	for _, s := range steps {
		args := []string{s.sub, "-n", strconv.Itoa(s.n), "-order", s.order, "-salt", s.salt}
		if *profileDir != "" {
			if err := os.MkdirAll(*profileDir, 0o755); err != nil {
				return err
			}
			abs, _ := filepath.Abs(filepath.Join(*profileDir, s.label+".cpu.pprof"))
			args = append(args, "-profile", abs)
		}
		fmt.Fprintf(os.Stderr, "bench: %-14s n=%d Order %s ...\n", s.label, s.n, s.order)
		before := counter.snapshot()
		var watch *procWatch
		if s.sub == "scale" {
			watch = watchProcs()
		}
		m, err := runChild(ctx, exe, e, args)
		if watch != nil {
			m.procs = watch.stop()
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.label, err)
		}
		m.hostOps = diffOps(counter.snapshot(), before)
		fmt.Fprintf(os.Stderr, "bench: %-14s %.1f s timed (%.0f rows/s), child %.1f s, peak RSS %.1f MB; %s\n",
			s.label, m.Seconds, float64(m.Rows)/m.Seconds, m.wall.Seconds(), float64(m.maxRSSKB)/1024, formatOps(m.Ops))
		got[s.label] = m
		labels = append(labels, s.label)
	}
	printSummary(os.Stdout, *n, got, labels)
	printHostSummary(os.Stdout, got)
	if m, ok := got["scale"]; ok {
		printScale(os.Stdout, m)
	}
	if bootstraps != nil {
		printBootstraps(os.Stdout, bootstraps, max(*runs, 1), *nativeNote)
	}
	return nil
}

func runChild(ctx context.Context, exe string, e env, args []string) (measured, error) {
	var m measured
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), e.vars()...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	dieWithParent(cmd)
	start := time.Now()
	err := cmd.Run()
	m.wall = time.Since(start)
	if err != nil {
		return m, err
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m.result); err != nil {
		return m, fmt.Errorf("the child's result %q: %w", out.String(), err)
	}
	// The child's own high-water mark. Not the rusage's ru_maxrss: Go starts a child with
	// vfork semantics, so at its execve the kernel folds the driver's peak RSS into it.
	m.maxRSSKB = m.VmHWMKB
	return m, nil
}

func printSummary(w *os.File, n int, got map[string]measured, labels []string) {
	if _, ok := got["import"]; !ok {
		if _, ok := got["export"]; !ok {
			n = 0 // no path of n members ran: no table of them
		}
	}
	if n > 0 {
		printPaths(w, n, got)
	}
	printChildren(w, got, labels)
}

func printPaths(w *os.File, n int, got map[string]measured) {
	fmt.Fprintf(w, "\nbench: n = %d (members imported, INI-PEC changes exported) against DynamoDB Local; import with %d workers\n\n", n, workers)
	fmt.Fprintf(w, "%-8s %10s %10s %7s %-8s %-7s %9s %-8s %-7s %s\n", "path", "measured", "floor", "ratio", "target", "", "peak RSS", "target", "", "rows/s path / floor")
	for _, path := range []string{"import", "export"} {
		p, ok := got[path]
		if !ok {
			continue
		}
		f := got[path+"-floor"]
		if f2, ok := got[path+"-floor-2"]; ok && f2.Seconds < f.Seconds {
			f = f2
		}
		ratio := p.Seconds / f.Seconds
		rss := float64(p.maxRSSKB) / 1024
		fmt.Fprintf(w, "%-8s %8.1f s %8.1f s %6.2fx %-8s %-7s %6.1f MB %-8s %-7s %.0f / %.0f\n", path, p.Seconds, f.Seconds, ratio,
			"<=1.5x", verdict(ratio <= targetRatio), rss, "<100 MB", verdict(rss < targetRSSMB),
			float64(p.Rows)/p.Seconds, float64(f.Rows)/f.Seconds)
	}
}

func printChildren(w *os.File, got map[string]measured, labels []string) {
	fmt.Fprintf(w, "\n%-14s %9s %9s %8s %9s  %s\n", "child", "timed", "own CPU", "machine", "peak RSS", "DynamoDB requests in the timed section")
	for _, label := range labels {
		m := got[label]
		fmt.Fprintf(w, "%-14s %7.1f s %7.1f s %7.0f%% %6.1f MB  %s\n", label, m.Seconds, m.CPUSeconds, 100*m.MachineBusy,
			float64(m.maxRSSKB)/1024, formatOps(m.Ops))
		for _, note := range m.Notes {
			fmt.Fprintf(w, "%-14s   %s\n", "", note)
		}
	}
	fmt.Fprintf(w, "\nfloor: the bare DynamoDB requests the path must make, issued directly (export: the faster of its two runs)\n"+
		"own CPU: the child's CPU time in its timed section; machine: the share of all %d CPUs busy meanwhile, DynamoDB Local included\n"+
		"peak RSS: the child's VmHWM; each path runs in a process of its own\n", runtime.NumCPU())
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}
