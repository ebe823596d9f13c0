package htm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		in   string
		want Mode
		ok   bool
	}{
		{"", ModeAuto, true},
		{"auto", ModeAuto, true},
		{"off", ModeOff, true},
		{"emulate", ModeEmulate, true},
		{"force", ModeForce, true},
		{"OFF", ModeOff, false},
		{"on", ModeOff, false},
		{" auto", ModeOff, false},
		{"1", ModeOff, false},
	}
	for _, tt := range tests {
		m, err := ParseMode(tt.in)
		if m != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseMode(%q) = %v, %v; want %v, ok=%v", tt.in, m, err, tt.want, tt.ok)
		}
		if tt.ok && tt.in != "" && m.String() != tt.in {
			t.Errorf("%v.String() = %q, want %q", m, m.String(), tt.in)
		}
	}
	if s := Mode(9).String(); s != "Mode(9)" {
		t.Errorf("Mode(9).String() = %q", s)
	}
}

func TestModeFromEnv(t *testing.T) {
	tests := []struct {
		in, info, stderr string
		want             Mode
	}{
		{"", "", "", ModeAuto},
		{"auto", "", "", ModeAuto},
		{"force", "", "", ModeForce},
		{"off", "HTM off (HYTM_HTM=off)", "", ModeOff},
		{"emulate", "HTM emulated (HYTM_HTM=emulate)", "", ModeEmulate},
		{"x", `HTM off (invalid HYTM_HTM value "x")`,
			`htm: invalid HYTM_HTM value "x": want auto, off, emulate or force; HTM off` + "\n", ModeOff},
	}
	for _, tt := range tests {
		var w bytes.Buffer
		m, info := modeFromEnv(tt.in, &w)
		if m != tt.want || info != tt.info || w.String() != tt.stderr {
			t.Errorf("modeFromEnv(%q) = %v, %q, stderr %q; want %v, %q, %q", tt.in, m, info, w.String(), tt.want, tt.info, tt.stderr)
		}
	}
}

// TestModeChild prints what the package decided; TestModeEnv runs it in a
// child process with HYTM_HTM set, since the variable is read once at init.
func TestModeChild(t *testing.T) {
	if os.Getenv("HTM_TEST_MODE_CHILD") != "1" {
		t.Skip("run by TestModeEnv")
	}
	// Supported and Info run detection, which is safe in every mode: no RTM
	// instruction runs unless CPUID says RTM is usable.
	fmt.Printf("mode=%v enabled=%v emulated=%v supported=%v info=%s\n",
		CurrentMode(), Enabled(), Emulated(), Supported(), Info())
}

func TestModeEnv(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	tests := []struct {
		env    string
		prefix string // of the child's line
		info   string // Info prefix
		stderr string
	}{
		{"off", "mode=off enabled=false emulated=false supported=false", "HTM off (HYTM_HTM=off)", ""},
		{"emulate", "mode=emulate enabled=false emulated=true supported=false", "HTM emulated (HYTM_HTM=emulate)", ""},
		{"force", "mode=force enabled=" + fmt.Sprint(asmAvailable) + " emulated=false", "HTM forced (HYTM_HTM=force); detection: ", ""},
		{"auto", "mode=auto", "", ""},
		{"bogus", "mode=off enabled=false emulated=false supported=false", `HTM off (invalid HYTM_HTM value "bogus")`,
			`htm: invalid HYTM_HTM value "bogus": want auto, off, emulate or force; HTM off`},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestModeChild$", "-test.v")
			cmd.Env = append(os.Environ(), "HTM_TEST_MODE_CHILD=1", EnvMode+"="+tt.env)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
			}
			var line string
			for l := range strings.Lines(stdout.String()) {
				if strings.HasPrefix(l, "mode=") {
					line = strings.TrimSuffix(l, "\n")
				}
			}
			if !strings.HasPrefix(line, tt.prefix) {
				t.Errorf("child printed %q, want prefix %q", line, tt.prefix)
			}
			if tt.env == "auto" && strings.Contains(line, "enabled=true") != strings.Contains(line, "supported=true") {
				t.Errorf("auto: Enabled differs from Supported: %q", line)
			}
			if _, info, _ := strings.Cut(line, " info="); !strings.HasPrefix(info, tt.info) {
				t.Errorf("child Info = %q, want prefix %q", info, tt.info)
			}
			if got := strings.TrimSpace(stderr.String()); got != tt.stderr {
				t.Errorf("child stderr = %q, want %q", got, tt.stderr)
			}
		})
	}
}
