package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is Linux's USER_HZ, the unit of /proc's CPU times.
const clockTick = 100

// cpuSample is the CPU time used so far, in seconds: by this process (the host, the functions,
// the floor and the load client), by its emulator children by name, and by the whole machine.
type cpuSample struct {
	at       time.Time
	self     float64
	children map[string]float64 // by command name: java (DynamoDB Local), python3 (moto), ...
	machine  float64
}

// cpuUse is CPU time per second of wall time (cores busy) over an interval.
type cpuUse struct {
	Self, DynamoDB, Moto float64
	Other                float64 // everything else on the machine: the other emulators, other people's work
}

// sampleCPU reads /proc (zero values elsewhere).
func sampleCPU() cpuSample {
	s := cpuSample{at: time.Now(), children: map[string]float64{}}
	self := os.Getpid()
	if _, _, t, ok := procStat(filepath.Join("/proc", "self", "stat")); ok {
		s.self = t
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		if name, ppid, t, ok := procStat(filepath.Join("/proc", d.Name(), "stat")); ok && ppid == self {
			s.children[name] += t
		}
	}
	s.machine = machineBusy()
	return s
}

// procStat reads a process's command name, parent and CPU time (user + system, seconds).
func procStat(path string) (name string, ppid int, cpu float64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, 0, false
	}
	open, end := strings.IndexByte(string(b), '('), strings.LastIndexByte(string(b), ')')
	if open < 0 || end < open {
		return "", 0, 0, false
	}
	f := strings.Fields(string(b[end+1:])) // state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
	if len(f) < 13 {
		return "", 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return string(b[open+1 : end]), ppid, (utime + stime) / clockTick, true
}

// machineBusy is the busy CPU time of all CPUs since boot, from /proc/stat, in seconds.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0
	}
	var busy float64
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += x
		}
	}
	return busy / clockTick
}

// use is the CPU used from a to b, per second.
func (a cpuSample) use(b cpuSample) cpuUse {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return cpuUse{}
	}
	var u cpuUse
	u.Self = (b.self - a.self) / wall
	u.DynamoDB = (b.children["java"] - a.children["java"]) / wall
	u.Moto = (b.children["python3"] - a.children["python3"]) / wall
	children := 0.0
	for name, t := range b.children {
		children += t - a.children[name]
	}
	u.Other = max((b.machine-a.machine)/wall-u.Self-children/wall, 0) + (children/wall - u.DynamoDB - u.Moto)
	return u
}
