package output

import (
	"errors"
	"strings"
	"testing"

	"github.com/kcurl/kcurl/pkg/exitcode"
	"github.com/kcurl/kcurl/pkg/limits"
)

// One value held in memory is bounded (KCURL_MAX_VALUE); a stream of
// values, or a list read item by item, is not.
func TestMaxValue(t *testing.T) {
	defer limits.SetMaxValue(0)
	limits.SetMaxValue(1 << 20)
	big := `{"a":"` + strings.Repeat("x", 2<<20) + `"}`
	_, err := NewDecoder(strings.NewReader(big)).Decode()
	if !errors.As(err, new(*limits.ValueTooLargeError)) {
		t.Fatalf("err %v, want the bound", err)
	}
	if code, _ := exitcode.Of(err); code != exitcode.Failed || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("exit %d: %v", code, err)
	}
	if _, err := NewDecoder(strings.NewReader(big)).rawValue(); !errors.As(err, new(*limits.ValueTooLargeError)) {
		t.Errorf("rawValue: err %v, want the bound", err)
	}

	small := `{"a":"` + strings.Repeat("x", 600<<10) + `"}`
	list := `{"kind":"List","items":[` + small + "," + small + "," + small + `]}`
	d := NewDecoder(strings.NewReader(list))
	items := 0
	if _, streamed, err := d.decodeItems(func(map[string]any) error {
		_, err := d.value()
		items++
		return err
	}); err != nil || !streamed || items != 3 {
		t.Errorf("a list of 1.8 MiB item by item: %d items, err %v", items, err)
	}
	d = NewDecoder(strings.NewReader(small + small + small))
	for i := range 3 {
		if _, err := d.Decode(); err != nil {
			t.Errorf("value %d: %v", i, err)
		}
	}
}
