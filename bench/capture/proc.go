package capture

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// Memory is the resident memory of this process, from /proc/self/status.
type Memory struct {
	RSS  int64 // VmRSS, bytes
	Peak int64 // VmHWM (peak resident), bytes
}

// ReadMemory returns the process's resident memory; zeros where /proc is
// not available.
func ReadMemory() Memory {
	var m Memory
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return m
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			m.RSS = n * 1024
		case "VmHWM":
			m.Peak = n * 1024
		}
	}
	return m
}

// MiB formats bytes in mebibytes.
func MiB(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// ProcessStart returns when this process started (from /proc, to the
// clock tick), or ok false where /proc is not available.
func ProcessStart() (t time.Time, ok bool) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return time.Time{}, false
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return time.Time{}, false
	}
	now := time.Now()
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return time.Time{}, false
	}
	fs := strings.Fields(s[i+1:])
	// fs[0] is field 3 (state); starttime is field 22.
	if len(fs) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseFloat(fs[19], 64)
	if err != nil {
		return time.Time{}, false
	}
	upFields := strings.Fields(string(up))
	if len(upFields) == 0 {
		return time.Time{}, false
	}
	uptime, err := strconv.ParseFloat(upFields[0], 64)
	if err != nil {
		return time.Time{}, false
	}
	const userHZ = 100 // sysconf(_SC_CLK_TCK) on Linux
	since := uptime - ticks/userHZ
	return now.Add(-time.Duration(since * float64(time.Second))), true
}
