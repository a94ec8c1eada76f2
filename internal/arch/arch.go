// Package arch holds the tests that keep twostep's package layout as
// ARCHITECTURE.md describes it: the allowed direction of imports and the
// size of hand-written files. It has no code of its own.
package arch
