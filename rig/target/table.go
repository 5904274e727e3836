package target

import (
	"fmt"
	"strings"
)

// row is an entry of one of the package's tables: targets, flavours,
// versions, boards.
type row interface{ rowName() string }

func (t Target) rowName() string  { return t.Name }
func (f Flavour) rowName() string { return f.Name }
func (v Version) rowName() string { return v.Name }
func (b Board) rowName() string   { return b.Name }

// lookup returns the row of rows called name, or an error that says what
// kind of row was asked for and lists those there are.
func lookup[T row](rows []T, kind, name string) (T, error) {
	for _, r := range rows {
		if r.rowName() == name {
			return r, nil
		}
	}
	var none T
	return none, fmt.Errorf("unknown %s %q (%s)", kind, name, strings.Join(names(rows), ", "))
}

// names lists the rows' names in the table's order.
func names[T row](rows []T) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.rowName()
	}
	return out
}
