package app

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/twostep/twostep/auth"
	"github.com/twostep/twostep/internal/config"
)

// Development keeps what a restart (a hot reload) would otherwise lose in
// files next to the SQLite database (or in the working directory with
// PostgreSQL): the signing key and refresh secret it made up, so tokens and
// sessions survive; and the built-in emulator's pending codes. Never in
// production, which requires real keys and Twilio.

const (
	devSecretsFile  = "twostep-dev-secrets.json"
	devEmulatorFile = "twostep-dev-emulator.json"
)

// devDir is where development state goes: beside the SQLite file.
func devDir(cfg *config.Config) string {
	u := cfg.DatabaseURL
	switch {
	case u == "":
		return "."
	case strings.HasPrefix(u, "sqlite:"):
		path, _, _ := strings.Cut(strings.TrimPrefix(u, "sqlite:"), "?")
		return filepath.Dir(path)
	}
	return "."
}

type devSecrets struct {
	SigningKeys   json.RawMessage `json:"signing_keys"`   // a JWK Set
	RefreshSecret string          `json:"refresh_secret"` // base64
}

// developmentSecrets returns the signing keys and refresh secret to use
// when the configuration has none: the ones kept in devSecretsFile, made
// and kept on first use. A file that cannot be read or written only costs
// the keeping: the keys are then this process's.
func developmentSecrets(cfg *config.Config, log *slog.Logger) (keys *auth.SigningKeys, refresh []byte, err error) {
	path := filepath.Join(devDir(cfg), devSecretsFile)
	var saved devSecrets
	if b, err := readPrivate(path); err == nil {
		if json.Unmarshal(b, &saved) != nil {
			saved = devSecrets{}
			log.Warn("development secrets file unreadable: making new ones", "path", path)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		log.Warn("development secrets file unreadable: making new ones", "path", path, "err", err)
	}
	changed := false
	if len(saved.SigningKeys) == 0 {
		jwk, err := auth.GenerateJWK(auth.AlgEdDSA, true)
		if err != nil {
			return nil, nil, err
		}
		saved.SigningKeys, changed = json.RawMessage(`{"keys":[`+string(jwk)+`]}`), true
	}
	refresh, err = base64.StdEncoding.DecodeString(saved.RefreshSecret)
	if err != nil || len(refresh) < auth.MinSecretLen {
		refresh = cfg.RefreshSecret // random, from config
		saved.RefreshSecret, changed = base64.StdEncoding.EncodeToString(refresh), true
	}
	keys, err = auth.NewSigningKeys(saved.SigningKeys, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("development secrets in %s: %w (delete the file to make new ones)", path, err)
	}
	if changed {
		b, _ := json.MarshalIndent(saved, "", "  ")
		if err := writePrivate(path, b); err != nil {
			log.Warn("development secrets not kept: tokens and sessions end with this process", "path", path, "err", err)
		}
	}
	return keys, refresh, nil
}

// readPrivate reads a file of development state only if this user owns it
// and nobody else may read or write it: keys planted by another user of a
// shared directory are not taken.
func readPrivate(path string) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 || !ownedByMe(fi) {
		return nil, fmt.Errorf("%s is not a private file of this user (mode %v): not read", path, fi.Mode())
	}
	return os.ReadFile(path)
}

// writePrivate writes a file only this user may read, replacing path
// whatever its mode was.
func writePrivate(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path) // CreateTemp made it 0600
}
