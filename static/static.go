// Package static embeds the CSS, scripts and icons the pages load, and names
// each by a content hash so that browsers may cache them forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

//go:embed css js icons vendor
var Files embed.FS

var (
	hashesOnce sync.Once
	hashes     map[string]string
)

// URL is the address of an embedded file with its content hash as version,
// e.g. "/static/css/app.css?v=3f2a…". It panics on a missing file, which the
// start-up template check turns into a boot failure.
func URL(path string) string {
	hashesOnce.Do(func() {
		hashes = map[string]string{}
		fs.WalkDir(Files, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := Files.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			hashes[p] = hex.EncodeToString(sum[:6])
			return nil
		})
	})
	h, ok := hashes[path]
	if !ok {
		panic("static: no file " + path)
	}
	return "/static/" + path + "?v=" + h
}
