// Package keygen is `twostep keygen`: it prints a fresh private JWK for
// JWT_SIGNING_KEYS, alone (to add to a set) or as a JWK Set of one key.
package keygen

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/twostep/twostep/auth"
)

// Main prints one private JWK with a random kid. Flags: -alg EdDSA (the
// default) or ES256; -verify-only to mark it for verification only, the
// first step of a key rotation (see the README); -set to print it inside
// a JWK Set, ready to be JWT_SIGNING_KEYS on its own.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", auth.AlgEdDSA, "key algorithm: EdDSA (Ed25519) or ES256 (P-256)")
	verifyOnly := fs.Bool("verify-only", false, `key_ops ["verify"] instead of ["sign","verify"]`)
	set := fs.Bool("set", false, `print {"keys":[<the key>]}, a JWK Set for JWT_SIGNING_KEYS`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keygen: unexpected argument %q", fs.Arg(0))
	}
	jwk, err := auth.GenerateJWK(*alg, !*verifyOnly)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if *set {
		_, err = fmt.Fprintf(stdout, "{\"keys\":[%s]}\n", jwk)
		return err
	}
	_, err = fmt.Fprintln(stdout, string(jwk))
	return err
}
