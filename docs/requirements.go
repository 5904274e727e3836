// Package docs holds the project's specification, docs/kbus.md, and reads
// its requirements out of it: every numbered section (## 9. Delivery,
// ### 9.6 Room in a queue) and every numbered item of a section that is a
// list (16.4) is one requirement, named by its number. Specs cite them as
// §9.6 in their texts; the run's page traces each requirement to the specs
// that cite it (docs/reports.md, "Requirements").
package docs

import (
	_ "embed"
	"regexp"
	"slices"
	"strings"
)

//go:embed kbus.md
var kbusMD string

// Spec is the name of the document the requirements come from.
const Spec = "docs/kbus.md"

// Section is one requirement: a numbered section or list item.
type Section struct {
	ID     string // "9", "9.6", "16.4"
	Title  string
	Parent string // the enclosing section's ID; "" for a top-level one
}

var (
	heading = regexp.MustCompile(`^#{2,3} ([0-9]+(?:\.[0-9]+)?)[. ] *(.*)$`)
	item    = regexp.MustCompile(`^([0-9]+)\. \*\*([^*]*)\*\* *(.*)$`)
	cite    = regexp.MustCompile(`§([0-9]+(?:\.[0-9]+)?)`)
)

// Requirements returns the sections of docs/kbus.md in document order.
func Requirements() []Section { return ParseSections(kbusMD) }

// ParseSections reads the numbered sections and list items of a document
// written as docs/kbus.md is.
func ParseSections(doc string) []Section {
	var out []Section
	current := ""
	for _, line := range strings.Split(doc, "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			id := m[1]
			parent := ""
			if i := strings.IndexByte(id, '.'); i >= 0 {
				parent = id[:i]
			}
			current = strings.SplitN(id, ".", 2)[0]
			out = append(out, Section{ID: id, Title: strings.TrimSpace(m[2]), Parent: parent})
			continue
		}
		if m := item.FindStringSubmatch(line); m != nil && current != "" {
			// "Fixed." and the item's first line: the word alone says little.
			title := strings.TrimSpace(m[2] + " " + m[3])
			out = append(out, Section{ID: current + "." + m[1], Title: title, Parent: current})
		}
	}
	return out
}

// Cited returns the section numbers a text cites (§9.6), in order, each
// once.
func Cited(text string) []string {
	var out []string
	for _, m := range cite.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}
