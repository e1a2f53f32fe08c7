package localworld

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// buildProgress turns tools/build.sh's log lines into what a user waiting
// for a first build wants: each tool as it starts and ends, and every
// minute what is still building and for how long.
type buildProgress struct {
	out     io.Writer
	verbose bool // a cold build: show every line, not just the summary
	mu      sync.Mutex
	started map[string]time.Time
	now     func() time.Time
}

func newBuildProgress(out io.Writer, verbose bool) *buildProgress {
	return &buildProgress{out: out, verbose: verbose, started: map[string]time.Time{}, now: time.Now}
}

var buildLine = regexp.MustCompile(`^\[build [0-9:]+\] ([a-z0-9-]+): (building|done in .*|FAILED.*|cached)$`)

// follow reads build.sh's stderr to its end.
func (p *buildProgress) follow(r io.Reader) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		p.line(s.Text())
	}
}

func (p *buildProgress) line(l string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := buildLine.FindStringSubmatch(l)
	switch {
	case m == nil:
		if p.verbose || strings.Contains(l, "FAILED") || strings.Contains(l, "ERROR") || !strings.HasPrefix(l, "[build ") {
			fmt.Fprintln(p.out, l)
		}
	case m[2] == "building":
		p.started[m[1]] = p.now()
		if p.verbose {
			fmt.Fprintf(p.out, "  building %s ...\n", m[1])
		}
	case m[2] == "cached":
		delete(p.started, m[1])
	default:
		delete(p.started, m[1])
		if p.verbose || strings.HasPrefix(m[2], "FAILED") {
			fmt.Fprintf(p.out, "  %s: %s\n", m[1], m[2])
		}
	}
}

// tick says what is still building.
func (p *buildProgress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.started) == 0 {
		return
	}
	names := make([]string, 0, len(p.started))
	for n := range p.started {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %s", n, p.now().Sub(p.started[n]).Round(time.Second)))
	}
	fmt.Fprintf(p.out, "  still building: %s\n", strings.Join(parts, ", "))
}
