// Package keygen is `twostep keygen`: it prints a fresh private key for
// JWT_SIGNING_KEYS, as a JWK Set of one key ready to use, or as a bare JWK
// to add to a set.
package keygen

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/twostep/twostep/auth"
)

// Main prints a JWK Set holding one private key with a random kid. Flags:
// -alg EdDSA (the default) or ES256; -verify-only to mark it for
// verification only, the first step of a key rotation (see the README);
// -jwk to print the bare key, for adding to an existing set.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("alg", auth.AlgEdDSA, "key algorithm: EdDSA (Ed25519) or ES256 (P-256)")
	verifyOnly := fs.Bool("verify-only", false, `key_ops ["verify"] instead of ["sign","verify"]`)
	bare := fs.Bool("jwk", false, "print the key alone, not a JWK Set holding it")
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
	if *bare {
		_, err = fmt.Fprintln(stdout, string(jwk))
		return err
	}
	_, err = fmt.Fprintf(stdout, "{\"keys\":[%s]}\n", jwk)
	return err
}
