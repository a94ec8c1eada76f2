package main

import (
	"slices"
	"testing"
)

func TestTop(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		n       int
		want    []string
		wantErr bool
	}{
		{name: "first n", src: "123456 9\npassword 5\nqwerty 5\n", n: 2, want: []string{"123456", "password"}},
		{name: "lower-cased and deduplicated", src: "Dragon 9\ndragon 8\nmonkey 7\n", n: 2, want: []string{"dragon", "monkey"}},
		{name: "stops reading at n", src: "a 3\nb 2\nnot a valid line\n", n: 2, want: []string{"a", "b"}},
		{name: "too few", src: "a 3\n", n: 2, wantErr: true},
		{name: "not ranked", src: "a 1\nb 2\n", n: 2, wantErr: true},
		{name: "bad count", src: "a x\n", n: 1, wantErr: true},
		{name: "extra field", src: "a b 1\n", n: 1, wantErr: true},
		{name: "would read as comment", src: "#1 3\n", n: 1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := top([]byte(tt.src), tt.n)
			if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
				t.Errorf("top(%q, %d) = %q, %v; want %q, error %v", tt.src, tt.n, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
