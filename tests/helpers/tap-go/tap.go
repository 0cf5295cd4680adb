// Package tap is a minimal stand-in, written for this project, for github.com/mndrix/tap-go
// (which Debian does not package): the subset of its API that runtime-tools' validation suite
// calls (tests/oci-validation.sh builds the suite against it). It writes TAP 13.
package tap

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type T struct {
	nextTestNumber int
	Writer         io.Writer
}

func New() *T { return &T{nextTestNumber: 1, Writer: os.Stdout} }

func (t *T) printf(format string, a ...interface{}) { fmt.Fprintf(t.Writer, format, a...) }

func (t *T) Header(testCount int) {
	t.printf("TAP version 13\n")
	if testCount > 0 {
		t.printf("1..%d\n", testCount)
	}
}

func (t *T) Ok(test bool, description string) {
	ok := "ok"
	if !test {
		ok = "not ok"
	}
	t.printf("%s %d - %s\n", ok, t.nextTestNumber, description)
	t.nextTestNumber++
}

func (t *T) Fail(description string) { t.Ok(false, description) }
func (t *T) Pass(description string) { t.Ok(true, description) }

func (t *T) Skip(count int, description string) {
	for i := 0; i < count; i++ {
		t.printf("ok %d # SKIP %s\n", t.nextTestNumber, description)
		t.nextTestNumber++
	}
}

func (t *T) Todo() *T { return t }

func (t *T) Count() int { return t.nextTestNumber - 1 }

func (t *T) AutoPlan() { t.printf("1..%d\n", t.Count()) }

func (t *T) Diagnostic(message string) {
	t.printf("# %s\n", strings.Replace(strings.TrimRight(message, "\n"), "\n", "\n# ", -1))
}

func (t *T) Diagnosticf(format string, a ...interface{}) { t.Diagnostic(fmt.Sprintf(format, a...)) }

// YAML writes the diagnostic block as JSON, which is valid YAML.
func (t *T) YAML(message interface{}) error {
	b, err := json.MarshalIndent(message, "  ", "  ")
	if err != nil {
		return err
	}
	t.printf("  ---\n  %s\n  ...\n", b)
	return nil
}
