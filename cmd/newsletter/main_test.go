package main

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"newsletter/internal/redistest"
)

// binDir holds the binary that mustBuild builds once for the whole run.
var binDir string

// defaultParallel is how many tests of this package run at once unless
// -parallel says otherwise. Most of them wait on processes, SMTP retries or
// asynq's lease of a killed worker's tasks (a minute), not on the CPU, and
// each owns its Redis database, SMTP server and ports, so running them
// together shortens the suite without sharing anything. On a Redis
// Cluster, which has one database that one test holds at a time
// (internal/redistest), the default is 1.
const defaultParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	if !flagSet("test.parallel") {
		n := defaultParallel
		if redistest.OneAtATime() {
			n = 1
		}
		flag.Set("test.parallel", fmt.Sprint(n))
	}
	var err error
	if binDir, err = os.MkdirTemp("", "newsletter-test-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
