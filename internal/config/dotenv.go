package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/joho/godotenv"
)

// Dotenv says what WithDotenv read: the file and how many variables, or
// nothing (Path "").
type Dotenv struct {
	Path string
	Vars int
}

// WithDotenv returns a getenv that falls back to the variables of a .env
// file; the real environment always wins. A missing file is not an error
// unless explicit (the file was named on the command line). A line that
// is not NAME=value is an error naming the line.
func WithDotenv(getenv func(string) string, path string, explicit bool) (func(string) string, Dotenv, error) {
	if path == "" {
		return getenv, Dotenv{}, nil
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return getenv, Dotenv{}, nil
	}
	if err != nil {
		return nil, Dotenv{}, fmt.Errorf("config: -env-file: %w", err)
	}
	if line, ok := badDotenvLine(raw); ok {
		return nil, Dotenv{}, fmt.Errorf("config: %s, line %d: want NAME=value (or a # comment)", path, line)
	}
	vars, err := godotenv.UnmarshalBytes(raw)
	if err != nil {
		return nil, Dotenv{}, fmt.Errorf("config: %s: %w", path, err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vars[k]
	}, Dotenv{Path: path, Vars: len(vars)}, nil
}

var dotenvLine = regexp.MustCompile(`^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*[=:]`)

// badDotenvLine returns the number of the first line that is neither
// blank, a comment, an assignment, nor inside a quoted value running over
// several lines.
func badDotenvLine(raw []byte) (int, bool) {
	open := byte(0) // the quote a multi-line value is waiting for
	for i, line := range strings.Split(string(raw), "\n") {
		t := strings.TrimSpace(line)
		if open != 0 {
			if strings.IndexByte(t, open) >= 0 {
				open = 0
			}
			continue
		}
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if !dotenvLine.MatchString(t) {
			return i + 1, true
		}
		_, v, _ := strings.Cut(t, "=")
		v = strings.TrimSpace(v)
		if len(v) > 0 && (v[0] == '"' || v[0] == '\'') && strings.Count(v, string(v[0])) == 1 {
			open = v[0]
		}
	}
	return 0, false
}
