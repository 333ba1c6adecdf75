package albo

import (
	"errors"
	"io"
	"runtime"
	"strconv"
	"testing"
)

// genReader yields a generated albo of n members a line at a time: the file never exists whole,
// so what the reader holds is all that the heap holds.
type genReader struct {
	n, i int
	json bool
	buf  []byte
	off  int
	done bool
}

func newGenReader(n int, json bool) *genReader {
	g := &genReader{n: n, json: json, buf: []byte(genHeader)}
	if json {
		g.buf = []byte("[\n")
	}
	return g
}

func (g *genReader) Read(p []byte) (int, error) {
	for g.off == len(g.buf) {
		switch {
		case g.done:
			return 0, io.EOF
		case g.i == g.n:
			g.buf, g.done = g.buf[:0], true
			if g.json {
				g.buf = append(g.buf, "]\n"...)
			}
		case g.json:
			g.buf = jsonMember(g.buf[:0], g.i)
			g.i++
		default:
			g.buf = member(g.buf[:0], g.i)
			g.i++
		}
		g.off = 0
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

func jsonMember(buf []byte, i int) []byte {
	if i > 0 {
		buf = append(buf, ",\n"...)
	}
	buf = append(buf, `{"codiceFiscale":"RSSMRA80A01H501U","nome":"Mario `...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	buf = append(buf, `","cognome":"Rossi","albo":"TSRM","numeroIscrizione":"`...)
	buf = strconv.AppendInt(buf, int64(i), 10)
	return append(buf, `","dataIscrizione":"2010-03-05","email":"mario@example.it","ctu":true}`...)
}

func TestReader_MemoryStaysSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 200 000 rows")
	}
	const n = 100_000
	const limit = 4 << 20
	for _, f := range []Format{FormatCSV, FormatJSON} {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		base := int64(ms.HeapInuse)
		r, err := NewReader(newGenReader(n, f == FormatJSON), f)
		if err != nil {
			t.Fatal(err)
		}
		rows, peak := 0, int64(0)
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || row.Err != nil {
				t.Fatalf("%v row %d: %v %v", f, rows, err, row.Err)
			}
			if rows++; rows%10_000 == 0 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				peak = max(peak, int64(ms.HeapInuse)-base)
			}
		}
		runtime.KeepAlive(r)
		if rows != n {
			t.Fatalf("%v: %d rows, want %d", f, rows, n)
		}
		t.Logf("%v: heap in use grew by at most %d KiB over %d rows", f, peak>>10, n)
		if peak > limit {
			t.Errorf("%v: heap in use grew by %d KiB, want under %d KiB", f, peak>>10, limit>>10)
		}
	}
}

// BenchmarkReadCSV reads a 100 000-member CSV streamed from a generator.
func BenchmarkReadCSV(b *testing.B) {
	const n = 100_000
	size, _ := io.Copy(io.Discard, newGenReader(n, false))
	b.SetBytes(size)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rows := 0
	for b.Loop() {
		r, err := NewReader(newGenReader(n, false), FormatCSV)
		if err != nil {
			b.Fatal(err)
		}
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || row.Err != nil {
				b.Fatal(err, row.Err)
			}
			rows++
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(rows), "B/row")
}
