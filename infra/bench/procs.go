package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The scale path's memory and CPU figures of every process of the local cloud, read from
// /proc (Linux; elsewhere none are found and the figures are 0).

// cloudProc is one process of the local cloud.
type cloudProc struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
}

// emulatorNames name the emulators by their program (infra/emulators starts each with it).
var emulatorNames = map[string]string{
	"java":    "DynamoDB Local (JVM)",
	"python3": "moto (Step Functions)",
	"node":    "SES stand-in (node)",
	"mailpit": "mailpit (PEC SMTP)",
}

// cloudProcs are this process (the host: the driver serves the template's functions) and the
// emulators it started: infra/emulators starts each as a child that leads its own process
// group (Setpgid), which the bench's own children (no Setpgid) do not.
func cloudProcs() []cloudProc {
	self := os.Getpid()
	procs := []cloudProc{{Name: "host (functions, forwarder, provider stand-in)", PID: self}}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		ppid, pgid, comm, ok := procStat(pid)
		if !ok || ppid != self || pgid != pid {
			continue
		}
		name := emulatorNames[comm]
		if name == "" {
			if exe, err := os.Readlink(d + "/exe"); err == nil {
				name = emulatorNames[filepath.Base(exe)]
			}
		}
		if name == "" {
			name = comm
		}
		procs = append(procs, cloudProc{Name: name, PID: pid})
	}
	return procs
}

// procStat reads a process's parent, process group and command name from /proc/<pid>/stat.
func procStat(pid int) (ppid, pgid int, comm string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, "", false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return 0, 0, "", false
	}
	f := strings.Fields(s[end+1:]) // state ppid pgrp ...
	if len(f) < 3 {
		return 0, 0, "", false
	}
	ppid, _ = strconv.Atoi(f[1])
	pgid, _ = strconv.Atoi(f[2])
	return ppid, pgid, s[open+1 : end], true
}

// procMemory is a process's peak (VmHWM) and current (VmRSS) resident set size in kB.
func procMemory(pid int) (hwm, rss int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	kb := func(rest string) int64 {
		v, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return v
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			hwm = kb(rest)
		} else if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			rss = kb(rest)
		}
	}
	return hwm, rss
}

// resetPeak sets a process's VmHWM back to its current RSS (proc(5), clear_refs "5"), so that
// the peak read afterwards is the measured path's own.
func resetPeak(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux port Go runs on.
const clockTick = 100

// procCPU is a process's CPU time so far, user and system, its threads included.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0
	}
	f := strings.Fields(s[end+1:]) // field 3 (state) is f[0]: utime is field 14, stime 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * time.Second / clockTick
}

// procThreads is a process's thread count (moto runs each waiting execution in a thread).
func procThreads(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Threads:"); ok {
			v, _ := strconv.Atoi(strings.TrimSpace(rest))
			return v
		}
	}
	return 0
}
