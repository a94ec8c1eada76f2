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

// eachRoot calls visit with every root field of set, whatever alias,
// inline fragment or fragment spread it hides behind, in order (a field
// spread twice is visited twice).
func (w walker) eachRoot(set ast.SelectionSet, visit func(*ast.Field)) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			visit(s)
		case *ast.InlineFragment:
			w.eachRoot(s.SelectionSet, visit)
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				w.eachRoot(f.SelectionSet, visit)
			}
		}
	}
}

// countSensitive counts the root fields that are sensitive mutations.
func (w walker) countSensitive(set ast.SelectionSet) int {
	n := 0
	w.eachRoot(set, func(f *ast.Field) {
		if sensitiveFields[f.Name] {
			n++
		}
	})
	return n
}

// introspects reports whether a root field is __schema or __type.
func (w walker) introspects(set ast.SelectionSet) bool {
	found := false
	w.eachRoot(set, func(f *ast.Field) { found = found || f.Name == "__schema" || f.Name == "__type" })
	return found
}

// rootFields appends to fields the names of the root fields of set that
// are not in it yet, in order.
func (w walker) rootFields(set ast.SelectionSet, fields []string) []string {
	w.eachRoot(set, func(f *ast.Field) {
		if !slices.Contains(fields, f.Name) {
			fields = append(fields, f.Name)
		}
	})
	return fields
}

// lists returns the root fields of set that read lists (listFields), each
// alias and repeat on its own.
func (w walker) lists(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	w.eachRoot(set, func(f *ast.Field) {
		if listFields[f.Name] {
			out = append(out, f)
		}
	})
	return out
}
