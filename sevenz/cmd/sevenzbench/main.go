// Command sevenzbench compares this module's 7z writer with 7-Zip on a
// synthetic observation extract (internal/samplecsv, fixed seed) and prints
// throughput and size for each codec and level, then checks the default
// against the acceptance targets recorded in README.md, and times Check
// against Verify on the default's archive.
//
//	go run ./cmd/sevenzbench -size 200 -runs 3
//	go run ./cmd/sevenzbench -input blurred -mx '' -ours lzma2:2@w0,lzma2:2@w8,lzma2:2@w16
//	go run ./cmd/sevenzbench -memory -open 48 -entry-mb 40
//
// Each figure is the median of -runs runs, interleaved: the machine may be
// shared. -memory writes -open interleaved files at once through a Pool, with
// SpoolInput, and prints the peak heap and RSS.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sinp.occitanie.fr/sevenz"
	"sinp.occitanie.fr/sevenz/internal/samplecsv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := realMain(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sevenzbench:", err)
		os.Exit(1)
	}
}

// config is one way of compressing the sample: 7-Zip's, or ours.
// run returns the CPU time it used, user and system.
type config struct {
	name string
	run  func(ctx context.Context, in, out string) (time.Duration, error)
}

type result struct {
	config
	times []time.Duration
	cpus  []time.Duration
	size  int64
}

// median is the median run's wall and CPU time.
func (r *result) median() (wall, cpu time.Duration) {
	idx := make([]int, len(r.times))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return r.times[idx[a]] < r.times[idx[b]] })
	m := idx[len(idx)/2]
	return r.times[m], r.cpus[m]
}

func realMain(ctx context.Context) error {
	sizeMB := flag.Int("size", 200, "size of the sample CSV in MB")
	runs := flag.Int("runs", 3, "runs per configuration; the best is kept")
	dir := flag.String("dir", "", "work folder (default: a temporary one)")
	tool := flag.String("7zz", "7zz", "7-Zip command")
	ours := flag.String("ours", "lzma2:1,lzma2:2,lzma2:3,lzma2:5,lzma2:2+aes,deflate:1,deflate:5,copy",
		"our configurations: codec:level[+aes][@wN], N the window in MiB (0: none)")
	mx := flag.String("mx", "1,5", "7-Zip -mx levels")
	input := flag.String("input", "plain", "sample: plain (samplecsv.Write) or blurred (samplecsv.WriteBlurred, F1's repeated polygons)")
	checks := flag.Bool("check", true, "time Check and Verify on the default's archive")
	memory := flag.Bool("memory", false, "measure memory with many open files instead")
	open := flag.Int("open", 48, "-memory: files written interleaved")
	entryMB := flag.Int("entry-mb", 40, "-memory: MB written to each file")
	workers := flag.Int("pool", 2, "-memory: goroutines of the shared Pool")
	blockMB := flag.Int("block-mb", 8, "-memory: block size in MiB")
	memProfile := flag.String("memprofile", "", "-memory: write an allocation profile to this file")
	flag.Parse()

	if *memory {
		runtime.MemProfileRate = 64 << 10
		if err := measureMemory(ctx, *open, *entryMB, *workers, *blockMB, *dir); err != nil {
			return err
		}
		if *memProfile != "" {
			f, err := os.Create(*memProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			return pprof.Lookup("allocs").WriteTo(f, 0)
		}
		return nil
	}

	work := *dir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "sevenzbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	in := filepath.Join(work, "occurrences.csv")
	if err := writeSample(in, int64(*sizeMB)*1_000_000, *input == "blurred"); err != nil {
		return fmt.Errorf("writeSample: %w", err)
	}
	info, err := os.Stat(in)
	if err != nil {
		return err
	}

	var configs []config
	for _, l := range strings.Split(*mx, ",") {
		if l != "" {
			configs = append(configs, sevenZipConfig(*tool, l))
		}
	}
	for _, spec := range strings.Split(*ours, ",") {
		if spec == "" {
			continue
		}
		c, err := ourConfig(spec)
		if err != nil {
			return err
		}
		configs = append(configs, c)
	}

	results := make([]result, len(configs))
	for i := range results {
		results[i].config = configs[i]
	}
	// Runs are interleaved so that a burst of load elsewhere hits every
	// configuration alike.
	for range *runs {
		for i := range results {
			r := &results[i]
			out := filepath.Join(work, "out.7z")
			os.Remove(out)
			start := time.Now()
			cpu, err := r.run(ctx, in, out)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			el := time.Since(start)
			st, err := os.Stat(out)
			if err != nil {
				return err
			}
			r.times, r.cpus = append(r.times, el), append(r.cpus, cpu)
			r.size = st.Size()
			if strings.HasSuffix(r.name, "(default)") {
				os.Rename(out, filepath.Join(work, "default.7z"))
			}
		}
	}
	printTable(info.Size(), *input, results)
	if *checks {
		if _, err := os.Stat(filepath.Join(work, "default.7z")); err == nil {
			return timeChecks(filepath.Join(work, "default.7z"), info.Size(), *runs)
		}
	}
	return nil
}

// timeChecks compares Check and Verify on one archive: median of runs, the
// archive in the page cache (what the extractor meets right after writing).
func timeChecks(path string, input int64, runs int) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("\n| %-22s | %8s | %8s | %14s | %12s |\n", "check of the default", "time s", "cpu s", "archive MB/s", "input MB/s")
	fmt.Printf("|%s|%s|%s|%s|%s|\n", strings.Repeat("-", 24), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 16), strings.Repeat("-", 14))
	for _, c := range []struct {
		name string
		f    func(string, string) error
	}{{"sevenz.Check", sevenz.Check}, {"sevenz.Verify", sevenz.Verify}} {
		r := result{config: config{name: c.name}}
		for range runs {
			start, before := time.Now(), cpuTime()
			if err := c.f(path, ""); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			r.times, r.cpus = append(r.times, time.Since(start)), append(r.cpus, cpuTime()-before)
		}
		wall, cpu := r.median()
		fmt.Printf("| %-22s | %8.3f | %8.3f | %14.0f | %12.0f |\n", c.name, wall.Seconds(), cpu.Seconds(),
			float64(st.Size())/1e6/wall.Seconds(), float64(input)/1e6/wall.Seconds())
	}
	return nil
}

func writeSample(path string, size int64, blurred bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	write := samplecsv.Write
	if blurred {
		write = samplecsv.WriteBlurred
	}
	if _, err := write(f, size, 1); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func sevenZipConfig(tool, level string) config {
	return config{
		name: "7zz a -mx=" + level,
		run: func(ctx context.Context, in, out string) (time.Duration, error) {
			cmd := exec.CommandContext(ctx, tool, "a", "-mx="+level, out, in)
			if b, err := cmd.CombinedOutput(); err != nil {
				return 0, fmt.Errorf("%v: %s", err, b)
			}
			return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
		},
	}
}

func ourConfig(spec string) (config, error) {
	opts := sevenz.Options{}
	s, window, hasWindow := strings.Cut(spec, "@w")
	if hasWindow {
		mib, err := strconv.Atoi(window)
		if err != nil {
			return config{}, fmt.Errorf("window in %q: %w", spec, err)
		}
		opts.Window = mib << 20
		if mib == 0 {
			opts.Window = -1
		}
	}
	s, aes := strings.CutSuffix(s, "+aes")
	if aes {
		opts.Password = "benchmark-password"
	}
	codec, level, _ := strings.Cut(s, ":")
	var err error
	if opts.Codec, err = sevenz.ParseCodec(codec); err != nil {
		return config{}, err
	}
	if level != "" {
		if opts.Level, err = strconv.Atoi(level); err != nil {
			return config{}, fmt.Errorf("level in %q: %w", spec, err)
		}
	}
	name := "sevenz " + spec
	if opts.Codec == sevenz.LZMA2 && opts.Level == sevenz.DefaultLZMA2Level && !aes && !hasWindow {
		name += " (default)"
	}
	return config{name: name, run: func(ctx context.Context, in, out string) (time.Duration, error) {
		before := cpuTime()
		_, err := sevenz.PackFiles(ctx, out, []string{in}, opts)
		return cpuTime() - before, err
	}}, nil
}

// cpuTime is this process's CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func printTable(input int64, kind string, results []result) {
	var mx1, mx5, def *result
	for i := range results {
		r := &results[i]
		switch {
		case r.name == "7zz a -mx=1":
			mx1 = r
		case r.name == "7zz a -mx=5":
			mx5 = r
		case strings.HasSuffix(r.name, "(default)"):
			def = r
		}
	}
	wall := func(r *result) time.Duration { w, _ := r.median(); return w }
	mbps := func(r *result) float64 { return float64(input) / 1e6 / wall(r).Seconds() }
	fmt.Printf("input: %d bytes of %s sample CSV (internal/samplecsv, seed 1), median of %d runs\n\n", input, kind, len(results[0].times))
	fmt.Printf("| %-28s | %8s | %8s | %8s | %12s | %7s |", "writer", "time s", "MB/s", "cpu s", "bytes", "ratio")
	if mx5 != nil {
		fmt.Printf(" %10s | %9s |", "speed/mx5", "size/mx5")
	}
	fmt.Println()
	fmt.Printf("|%s|%s|%s|%s|%s|%s|", strings.Repeat("-", 30), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 14), strings.Repeat("-", 9))
	if mx5 != nil {
		fmt.Printf("%s|%s|", strings.Repeat("-", 12), strings.Repeat("-", 11))
	}
	fmt.Println()
	for i := range results {
		r := &results[i]
		w, cpu := r.median()
		fmt.Printf("| %-28s | %8.2f | %8.1f | %8.2f | %12d | %6.2f%% |", r.name, w.Seconds(), mbps(r), cpu.Seconds(), r.size, 100*float64(r.size)/float64(input))
		if mx5 != nil {
			fmt.Printf(" %9.1fx | %8.2fx |", wall(mx5).Seconds()/w.Seconds(), float64(r.size)/float64(mx5.size))
		}
		fmt.Println()
	}
	if def == nil {
		return
	}
	fmt.Println()
	check := func(ok bool, format string, args ...any) {
		verdict := "met"
		if !ok {
			verdict = "NOT met"
		}
		fmt.Printf("- %s: %s\n", fmt.Sprintf(format, args...), verdict)
	}
	if mx5 != nil {
		check(wall(mx5) >= 5*wall(def), "default at least 5x faster than -mx=5 (%.1fx)", wall(mx5).Seconds()/wall(def).Seconds())
		check(float64(def.size) <= 1.3*float64(mx5.size), "default at most 1.3x the size of -mx=5 (%.2fx)", float64(def.size)/float64(mx5.size))
	}
	if mx1 != nil {
		check(wall(def) <= wall(mx1), "default not slower than -mx=1 (%.1f vs %.1f MB/s)", mbps(def), mbps(mx1))
		check(def.size <= mx1.size, "default not larger than -mx=1 (%d vs %d bytes)", def.size, mx1.size)
	}
}
