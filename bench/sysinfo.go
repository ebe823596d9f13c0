package bench

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/hytm/hytm/htm"
)

// Machine describes where a suite ran.
type Machine struct {
	CPU        string    `json:"cpu"`
	Cores      int       `json:"cores"` // runtime.NumCPU
	GOMAXPROCS int       `json:"gomaxprocs"`
	OS         string    `json:"os"`
	Arch       string    `json:"arch"`
	GoVersion  string    `json:"go_version"`
	HTM        string    `json:"htm"`      // htm.Info()
	HTMMode    string    `json:"htm_mode"` // HYTM_HTM mode: auto, off, emulate
	Date       time.Time `json:"date"`
	// Revision is the repository's commit and whether the library's files
	// (outside bench/) differ from it, when git can tell; "" otherwise.
	Revision string `json:"revision,omitempty"`
}

// ThisMachine describes the running machine. It runs hytm's HTM detection
// (htm.Info), which may execute a short RTM self-test.
func ThisMachine() Machine {
	return Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		GoVersion:  runtime.Version(),
		HTM:        htm.Info(),
		HTMMode:    htm.CurrentMode().String(),
		Date:       time.Now().UTC().Truncate(time.Second),
		Revision:   revision(),
	}
}

// revision returns "<commit>" or "<commit> + local changes" for the git
// repository around the working directory, or "" without git.
func revision() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(out))
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return rev
	}
	st, err := exec.Command("git", "-C", strings.TrimSpace(string(top)), "status", "--porcelain",
		"--untracked-files=no", "--", ".", ":(exclude)bench").Output()
	if err == nil && len(strings.TrimSpace(string(st))) > 0 {
		rev += " + local changes"
	}
	return rev
}

// cpuModel returns the CPU model name from /proc/cpuinfo, or GOARCH.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name", "Model", "cpu model", "Hardware":
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
	}
	return runtime.GOARCH
}
