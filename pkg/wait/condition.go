// Package wait waits until objects of the API meet a condition, as kubectl
// wait does: list them, then watch from the list's resourceVersion (resuming
// when the server ends the watch, listing again after 410 Gone), never
// polling.
package wait

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/itchyny/gojq"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/output"
)

// Condition is what --for asks of each object.
type Condition struct {
	Text string // as typed
	kind conditionKind
	// status condition (condition=NAME[=VALUE]): its type and the status
	// it must have, both compared after case folding, as kubectl does.
	name, value string
	query       *output.Query
}

type conditionKind int

const (
	forQuery     conditionKind = iota // a jq expression on the object
	forCreate                         // the object exists
	forDelete                         // the object is gone
	forCondition                      // status.conditions[type==NAME].status == VALUE
)

// ParseCondition reads --for: create, delete, kubectl's
// condition=NAME[=VALUE] (VALUE True when left out), or a jq expression,
// compiled by compile.
func ParseCondition(text string, compile func(expr string) (*output.Query, error)) (*Condition, error) {
	c := &Condition{Text: text}
	switch lower := strings.ToLower(text); {
	case strings.TrimSpace(text) == "":
		return nil, exitcode.Usagef("--for needs a condition: create, delete, condition=NAME[=VALUE], or a jq expression")
	case lower == "create":
		c.kind = forCreate
	case lower == "delete":
		c.kind = forDelete
	case strings.HasPrefix(text, "condition="):
		c.kind = forCondition
		c.name, c.value, _ = strings.Cut(strings.TrimPrefix(text, "condition="), "=")
		if c.value == "" {
			c.value = "True"
		}
		if c.name == "" {
			return nil, &exitcode.UsageError{Err: errors.New("--for condition= needs a condition type: condition=Ready, condition=Available=False")}
		}
	case strings.HasPrefix(text, "jsonpath="):
		return nil, &exitcode.UsageError{Err: errors.New("kcurl wait takes a jq expression where kubectl takes jsonpath: --for '.status.phase == \"Running\"'")}
	default:
		q, err := compile(text)
		if err != nil {
			return nil, err
		}
		c.kind, c.query = forQuery, q
	}
	return c, nil
}

// check says whether one object meets the condition and, when it does not,
// what was seen instead ("condition Ready is False").
func (c *Condition) check(ctx context.Context, raw []byte) (met bool, seen string) {
	met, seen, _ = c.evaluate(ctx, raw)
	return met, seen
}

// evaluate is check, and whether the jq expression was stopped (ctx ended)
// before it said.
func (c *Condition) evaluate(ctx context.Context, raw []byte) (met bool, seen string, stopped bool) {
	switch c.kind {
	case forCreate:
		return true, "", false
	case forDelete:
		return false, "it still exists", false
	case forCondition:
		met, seen := c.checkStatus(raw)
		return met, seen, false
	}
	v, err := output.NewDecoder(bytes.NewReader(raw)).Decode()
	if err != nil {
		return false, "not JSON: " + err.Error(), false
	}
	iter := c.query.Run(ctx, v)
	var last any
	outputs := 0
	for {
		out, ok := iter.Next()
		if !ok {
			break
		}
		if err, isErr := out.(error); isErr {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return false, c.Text + " did not finish in time", true
			}
			return false, c.Text + " failed: " + (&output.RuntimeError{Err: err}).Error(), false
		}
		last, outputs = out, outputs+1
	}
	// As jq -e: the last output decides; false, null or none is not met.
	if outputs > 0 && last != nil && last != false {
		return true, "", false
	}
	if outputs == 0 {
		return false, c.Text + " gave no output", false
	}
	text, _ := gojq.Marshal(last)
	return false, c.Text + " is " + string(text), false
}

// checkStatus is kubectl's condition check: the first condition whose type
// matches, its status compared case-insensitively, and not met while the
// condition (or the status) describes an older generation than the object's.
func (c *Condition) checkStatus(raw []byte) (bool, string) {
	var obj struct {
		Metadata struct {
			Generation *int64 `json:"generation"`
		} `json:"metadata"`
		Status struct {
			ObservedGeneration *int64 `json:"observedGeneration"`
			Conditions         []struct {
				Type               string `json:"type"`
				Status             string `json:"status"`
				Reason             string `json:"reason"`
				Message            string `json:"message"`
				ObservedGeneration *int64 `json:"observedGeneration"`
			} `json:"conditions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return false, "its status is not what kubectl reads conditions from: " + err.Error()
	}
	for _, cond := range obj.Status.Conditions {
		if !strings.EqualFold(cond.Type, c.name) || cond.Status == "" {
			continue
		}
		observed := cond.ObservedGeneration
		if observed == nil {
			observed = obj.Status.ObservedGeneration
		}
		if g := obj.Metadata.Generation; g != nil && observed != nil && *observed < *g {
			return false, fmt.Sprintf("condition %s is %s for generation %d, not yet the object's %d", cond.Type, cond.Status, *observed, *g)
		}
		if strings.EqualFold(cond.Status, c.value) {
			return true, ""
		}
		seen := "condition " + cond.Type + " is " + cond.Status
		if cond.Reason != "" || cond.Message != "" {
			seen += " (" + strings.TrimPrefix(strings.TrimSuffix(cond.Reason+": "+cond.Message, ": "), ": ") + ")"
		}
		return false, seen
	}
	return false, "no condition " + c.name + " in its status"
}
