package extraction

import (
	"bytes"
	"strings"
	"testing"
)

func TestRecordsReassembleSplitWritesAndQuotedNewlines(t *testing.T) {
	stream := "a;1;x\n\"multi\nline;with \"\"quotes\"\"\";2;y\nlast;3;z\n"
	for _, chunk := range []int{1, 2, 3, 7, len(stream)} {
		var got []string
		r := &records{handle: func(rec []byte) error { got = append(got, string(rec)); return nil }}
		for i := 0; i < len(stream); i += chunk {
			if _, err := r.Write([]byte(stream[i:min(i+chunk, len(stream))])); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.flush(); err != nil {
			t.Fatal(err)
		}
		want := []string{"a;1;x", "\"multi\nline;with \"\"quotes\"\"\";2;y", "last;3;z"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("chunk %d: records %q", chunk, got)
		}
	}
}

func TestSplitFieldsKeepsQuotingAndEmptyFields(t *testing.T) {
	rec := []byte(`p;;"a;b";"say ""hi""";;"";last;"""x"";y"`)
	f := splitFields(rec, nil)
	want := []string{"p", "", `"a;b"`, `"say ""hi"""`, "", `""`, "last", `"""x"";y"`}
	if len(f) != len(want) {
		t.Fatalf("fields %q", f)
	}
	for i := range want {
		if string(f[i]) != want[i] {
			t.Errorf("field %d = %q, want %q", i, f[i], want[i])
		}
	}
	if string(bytes.Join(f, []byte(";"))) != string(rec) {
		t.Error("fields do not join back to the record")
	}
	if got := string(unquote(f[3])); got != `say "hi"` {
		t.Errorf("unquote = %q", got)
	}
	if got := string(quote([]byte(`a;"b"`))); got != `"a;""b"""` {
		t.Errorf("quote = %q", got)
	}
	if got := splitList([]byte("31555|31069"), nil); len(got) != 2 || got[1] != "31069" {
		t.Errorf("splitList = %q", got)
	}
}

func BenchmarkSplitFields(b *testing.B) {
	rec := []byte(strings.Repeat("abc;12;;\"x;y\";2024-01-02;", 16) + "POINT(650000.5 6300000)")
	var f [][]byte
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		f = splitFields(rec, f)
	}
}
