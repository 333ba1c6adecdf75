package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pecplatform/pec/infra/localcloud"
)

// scaleParameters are the bench's parameters with the template's fast ones
// (localcloud.FastParameters) where they leave the happy path as it is: the retry intervals and
// the pace between pages of starts. The waits stay the template's (days): a reminder, an
// expired link or a provider timeout during the run would send a second e-mail or a second
// submission, which is what the run counts as a repeat.
func scaleParameters() map[string]string {
	p := maps.Clone(localcloud.FastParameters)
	for _, k := range []string{"ActivationReminderSeconds", "ActivationTtlSeconds", "AuthorizationReminderSeconds", "ProviderTimeoutSeconds"} {
		delete(p, k)
	}
	maps.Copy(p, benchParameters)
	return p
}

// scaleProviderDelay is the provider stand-in's delay from a submission to its callback: a
// real provider's is longer, but it is a wait, not work, and every mailbox waits it at once.
const scaleProviderDelay = 100 * time.Millisecond

// procFigure is one process of the local cloud over the scale child's life.
type procFigure struct {
	cloudProc
	peakKB, endKB int64
	cpu           time.Duration
	maxThreads    int
	peakReset     bool // VmHWM was reset at the start: the peak is the run's own
}

// procWatch follows the local cloud's processes while the scale child runs: their CPU time and
// their thread count, sampled every second.
type procWatch struct {
	procs   []cloudProc
	cpu0    []time.Duration
	reset   []bool
	mu      sync.Mutex
	threads []int
	done    chan struct{}
	wg      sync.WaitGroup
}

func watchProcs() *procWatch {
	w := &procWatch{procs: cloudProcs(), done: make(chan struct{})}
	w.threads = make([]int, len(w.procs))
	for _, p := range w.procs {
		w.reset = append(w.reset, resetPeak(p.PID) == nil)
		w.cpu0 = append(w.cpu0, procCPU(p.PID))
	}
	w.wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			w.sample()
			select {
			case <-w.done:
				return
			case <-t.C:
			}
		}
	})
	return w
}

func (w *procWatch) sample() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, p := range w.procs {
		w.threads[i] = max(w.threads[i], procThreads(p.PID))
	}
}

func (w *procWatch) stop() []procFigure {
	close(w.done)
	w.wg.Wait()
	w.sample()
	out := make([]procFigure, len(w.procs))
	for i, p := range w.procs {
		hwm, rss := procMemory(p.PID)
		out[i] = procFigure{cloudProc: p, peakKB: hwm, endKB: rss, cpu: procCPU(p.PID) - w.cpu0[i], maxThreads: w.threads[i], peakReset: w.reset[i]}
	}
	return out
}

// printScale prints the scale path: its phases, its checks, its costs per mailbox and the
// local cloud's processes.
func printScale(w io.Writer, m measured) {
	n := float64(m.Rows)
	x := m.Extra
	fmt.Fprintf(w, "\nscale: one Order, a batch of %d mailboxes from enrolment to ATTIVATA through the host (%d clients; provider stand-in delay %s; milestones polled every %s)\n\n",
		m.Rows, clients, scaleProviderDelay, scalePoll)
	fmt.Fprintf(w, "%-88s %9s %14s\n", "phase", "seconds", "mailboxes/min")
	for _, p := range scalePhases {
		fmt.Fprintf(w, "%-88s %7.1f s %14.0f\n", p.label, x[p.key], 60*n/x[p.key])
	}
	fmt.Fprintf(w, "%-88s %7.1f s %14.0f\n", "total: first enrolment -> every mailbox ATTIVATA and every execution SUCCEEDED", x["total"], 60*n/x["total"])
	fmt.Fprintf(w, "\nlost: %.0f (not ATTIVATA %.0f, not created at the provider %.0f, no activation e-mail %.0f, execution not SUCCEEDED %.0f)\n",
		x["lost"], x["notAttivata"], x["notCreated"], x["noMail"], x["notSucceeded"])
	fmt.Fprintf(w, "duplicated: %.0f (a state twice in a mailbox's history %.0f, a mailbox created twice %.0f, two activation e-mails %.0f, a link in two e-mails %.0f)\n",
		x["duplicated"], x["repeatedState"], x["createdTwice"], x["mailsTwice"], x["linksTwice"])
	fmt.Fprintf(w, "  %.0f ATTIVATA; the provider created %.0f mailboxes from %.0f submissions; %.0f activation e-mails with %.0f distinct links, %.0f other e-mails to the members\n",
		x["attivata"], x["providerMailboxes"], x["submits"], x["mails"], x["links"], x["otherMails"])
	writes, items, reads := dynamoCounts(m.hostOps)
	fmt.Fprintf(w, "per mailbox: %.2f state transitions (+ %.0f of the batch's execution / %d); DynamoDB %.2f write requests writing %.2f items, %.2f read requests\n",
		x["mailboxTransitions"], x["batchTransitions"], m.Rows, float64(writes)/n, float64(items)/n, float64(reads)/n)
	fmt.Fprintf(w, "  every AWS request the host forwarded, per mailbox: %s\n", formatPer(m.hostOps, n))
	printIndexWrites(w, m.hostOps, n, x["mailboxItemBytes"])
	fmt.Fprintf(w, "\n%-64s %9s %9s %9s %8s\n", "process", "peak RSS", "RSS end", "CPU", "threads")
	for _, p := range m.procs {
		note := ""
		if !p.peakReset {
			note = " (peak since its start)"
		}
		fmt.Fprintf(w, "%-64s %6.1f MB %6.1f MB %7.1f s %8d%s\n", fmt.Sprintf("%s, pid %d", p.Name, p.PID),
			float64(p.peakKB)/1024, float64(p.endKB)/1024, p.cpu.Seconds(), p.maxThreads, note)
	}
	fmt.Fprintf(w, "%-64s %6.1f MB %9s %7.1f s\n", "bench client (the child: enrolments, clicks, polls)", float64(m.maxRSSKB)/1024, "", m.CPUSeconds)
	fmt.Fprintf(w, "peak RSS: VmHWM, reset (clear_refs) when the child started; CPU: user + system over the child's life (%.1f s), on %d CPUs\n",
		m.wall.Seconds(), runtime.NumCPU())
}

// printIndexWrites prints the writes of the mailbox items and of their index entries per
// mailbox, by index partition key (indexes.go): what the capacity plan's hot keys take.
func printIndexWrites(w io.Writer, ops map[string]int, n, bytesAtEnd float64) {
	writes := float64(ops[mailboxItemWrites])
	if writes == 0 {
		return
	}
	fmt.Fprintf(w, "  the mailbox item: %.2f writes per mailbox, %.0f bytes and %.2f write units (1 KB) a write on average (%.0f bytes at ATTIVATA)\n",
		writes/n, float64(ops[mailboxItemBytes])/writes, float64(ops[mailboxWriteUnits])/writes, bytesAtEnd)
	var gsi1 []string
	for _, st := range []string{"RICHIESTA", "RICHIESTA_INVIATA", "ABILITATA", "ATTIVATA", "REVOCATA"} {
		if v := ops[gsi1StatePrefix+st]; v > 0 {
			gsi1 = append(gsi1, fmt.Sprintf("STATE#%s %.2f", st, float64(v)/n))
		}
	}
	fmt.Fprintf(w, "  index writes per mailbox, by partition key of one Order: GSI2 ORDER#<id>#MAILBOXES %.2f; GSI1 ORDER#<id>#%s (%.2f of them deletes under the old state); GSI3 OPEN %.2f, EXPIRY %.2f\n",
		float64(ops[gsi2Mailboxes])/n, strings.Join(gsi1, ", "), float64(ops[gsiChanges])/n,
		float64(ops[gsi3Prefix+"OPEN"])/n, float64(ops[gsi3Prefix+"EXPIRY"])/n)
}
