package sevenz

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/bodgit/sevenzip"
)

// FuzzRoundTrip writes one file of any name and content, next to a fixed
// one, and reads both back with bodgit/sevenzip. Run the seed corpus with go
// test, or explore with: go test -run XXX -fuzz FuzzRoundTrip -fuzzminimizetime 5s
func FuzzRoundTrip(f *testing.F) {
	f.Add("observations.csv", []byte("id;nom\n1;Aquila chrysaetos\n"), byte(0), uint16(5))
	f.Add("données/été 2024/Hérault.csv", bytes.Repeat([]byte("POINT(712345.1 6234567.2);"), 300), byte(1), uint16(999))
	f.Add("x", []byte{}, byte(2), uint16(0))
	f.Add("../escape", []byte("no"), byte(3), uint16(1))
	f.Add("日本/Ωmega\\win.txt", sampleCSV(20_000, 9), byte(4), uint16(65535))
	f.Add("bin", []byte{0, 0, 0, 0, 255, 255, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}, byte(5), uint16(3))

	f.Fuzz(func(t *testing.T, name string, content []byte, mode byte, split uint16) {
		opts := Options{Codec: codecs[int(mode)%len(codecs)], BlockSize: 64 << 10, TempDir: t.TempDir(), Rand: newSeeded(mode)}
		password := ""
		if mode&4 != 0 {
			password, opts.Password, opts.KeyCycles = testPassword, testPassword, 1
		}
		var out bytes.Buffer
		w, err := NewWriter(&out, opts)
		if err != nil {
			t.Fatal(err)
		}
		fixed, _ := w.Create(&FileHeader{Name: "fixed.csv"})
		fixed.Write([]byte("a;b\n"))
		fw, err := w.Create(&FileHeader{Name: name})
		if err != nil {
			if clean, cerr := cleanName(name); cerr == nil {
				t.Fatalf("Create(%q) failed although %q is a valid name: %v", name, clean, err)
			}
			fixed.Close()
			w.Close()
			return
		}
		want := fw.(*entry).hdr.name
		k := int(split) % (len(content) + 1)
		fw.Write(content[:k])
		fw.Write(content[k:])
		if err := fw.Close(); err != nil {
			t.Fatal(err)
		}
		fixed.Close()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}

		r, err := sevenzip.NewReaderWithPassword(bytes.NewReader(out.Bytes()), int64(out.Len()), password)
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		if len(r.File) != 2 || r.File[0].Name != "fixed.csv" || strings.TrimSuffix(r.File[1].Name, "/") != want {
			t.Fatalf("members %v, want fixed.csv and %q", r.File, want)
		}
		rc, err := r.File[1].Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("content differs (err %v): %d bytes, want %d", err, len(got), len(content))
		}
		if r.File[1].CRC32 != crc32Of(content) && len(content) > 0 {
			t.Fatalf("stored CRC %08x, want %08x", r.File[1].CRC32, crc32Of(content))
		}
	})
}
