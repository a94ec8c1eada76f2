package graph

import (
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
)

// walker measures a validated operation, following fragment spreads.
// Validation has already rejected fragment cycles, so recursion ends.
type walker struct {
	fragments ast.FragmentDefinitionList
}

// depth returns how deep the selection set nests fields.
func (w walker) depth(set ast.SelectionSet, level int) int {
	deepest := level - 1
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			d = level
			if len(s.SelectionSet) > 0 {
				d = w.depth(s.SelectionSet, level+1)
			}
		case *ast.InlineFragment:
			d = w.depth(s.SelectionSet, level)
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				d = w.depth(f.SelectionSet, level)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// countSensitive counts the root fields that are sensitive mutations,
// whatever alias or fragment they hide behind.
func (w walker) countSensitive(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if sensitiveFields[s.Name] {
				n++
			}
		case *ast.InlineFragment:
			n += w.countSensitive(s.SelectionSet)
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				n += w.countSensitive(f.SelectionSet)
			}
		}
	}
	return n
}

// introspects reports whether a root field is __schema or __type, whatever
// alias or fragment it hides behind.
func (w walker) introspects(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if w.introspects(s.SelectionSet) {
				return true
			}
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil && w.introspects(f.SelectionSet) {
				return true
			}
		}
	}
	return false
}

// rootFields appends to fields the names of the root fields of set that
// are not in it yet, in order, whatever alias or fragment they hide
// behind.
func (w walker) rootFields(set ast.SelectionSet, fields []string) []string {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !slices.Contains(fields, s.Name) {
				fields = append(fields, s.Name)
			}
		case *ast.InlineFragment:
			fields = w.rootFields(s.SelectionSet, fields)
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				fields = w.rootFields(f.SelectionSet, fields)
			}
		}
	}
	return fields
}
