package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/clock"
	"sinp.occitanie.fr/platform/pg"
	"sinp.occitanie.fr/platform/pgtest"
	"sinp.occitanie.fr/platform/timer"
	"sinp.occitanie.fr/services/delivery"
	"sinp.occitanie.fr/services/delivery/api"
	"sinp.occitanie.fr/services/delivery/app"
	"sinp.occitanie.fr/services/delivery/store"
	"sinp.occitanie.fr/services/delivery/zone"
)

var t0 = time.Date(2026, 3, 7, 8, 0, 0, 0, time.UTC)

// route serves one published F1 of account acc-1 through the download
// handler, on a real database, a manual clock and a real signer.
type route struct {
	db     *pgxpool.Pool
	clock  *clock.Manual
	srv    *httptest.Server
	token  string
	pub    store.Publication
	expiry time.Time
}

func newRoute(t *testing.T) *route {
	t.Helper()
	db := pgtest.NewDB(t, delivery.Migrations, timer.Migrations(app.Schema))
	zones, err := zone.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := clock.NewManual(t0)
	a := &app.Service{DB: db, Clock: c, Zones: zones, Log: slog.New(slog.DiscardHandler), Retention: 240 * time.Hour}
	body := []byte(strings.Repeat("7z archive bytes ", 1000))
	placed, err := zones.WriteFile("acc-1", "R-1", "R-1_F1.7z", body)
	if err != nil {
		t.Fatal(err)
	}
	r := &route{db: db, clock: c, expiry: t0.Add(240 * time.Hour)}
	r.pub = store.Publication{DeliverableID: "R-1/F1", Reference: "R-1", Kind: "F1", Nature: "archive", DropZone: "acc-1",
		AccountID: "acc-1", Path: placed.Path, SHA256: placed.SHA256, Bytes: placed.Bytes, Rule: "f1", ReleasedAt: t0,
		PublishedAt: t0, ExpiresAt: r.expiry}
	if err := pg.InTx(context.Background(), db, func(tx pgx.Tx) error { _, err := store.Insert(context.Background(), tx, r.pub); return err }); err != nil {
		t.Fatal(err)
	}
	signer, err := auth.LoadOrCreateKey(filepath.Join(t.TempDir(), "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewVerifier()
	v.AddKey(signer.Public())
	if r.token, _, err = signer.Issue(auth.Principal{Kind: auth.Requester, Subject: "acc-1", Name: "Anne"}, time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.DownloadRoute, &api.Downloads{App: a, Auth: &auth.Authenticator{Verifier: v}, DB: db})
	r.srv = httptest.NewServer(mux)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *route) get(t *testing.T, method string, hdr map[string]string) (int, int) {
	t.Helper()
	req, _ := http.NewRequest(method, r.srv.URL+"/dropzone/"+r.pub.Path, nil)
	req.Header.Set("Authorization", "Bearer "+r.token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, len(b)
}

func (r *route) audit(t *testing.T) []store.Audit {
	t.Helper()
	list, err := store.Audits(context.Background(), r.db, "R-1", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A download is traced before its first byte and again at its end, with
// the file's bytes only and whether the whole file went out; what sends
// no byte of the file is not a download.
func TestEveryDownloadIsTracedFromItsStart(t *testing.T) {
	r := newRoute(t)
	size := int(r.pub.Bytes)
	for _, c := range []struct {
		name     string
		method   string
		hdr      map[string]string
		status   int
		complete bool
		sent     int64
		audited  bool
	}{
		{"whole", http.MethodGet, nil, 200, true, int64(size), true},
		{"one range of it all", http.MethodGet, map[string]string{"Range": "bytes=0-"}, 206, true, int64(size), true},
		{"one range beyond its end", http.MethodGet, map[string]string{"Range": fmt.Sprintf("bytes=0-%d", size*10)}, 206, true, int64(size), true},
		{"a suffix longer than it", http.MethodGet, map[string]string{"Range": fmt.Sprintf("bytes=-%d", size*10)}, 206, true, int64(size), true},
		// Several ranges: the file's bytes are counted, not the multipart's.
		{"two ranges covering it", http.MethodGet, map[string]string{"Range": "bytes=0-9,10-"}, 206, true, int64(size), true},
		{"two ranges with a gap", http.MethodGet, map[string]string{"Range": "bytes=0-9,20-"}, 206, false, int64(size - 10), true},
		{"a suffix and its start", http.MethodGet, map[string]string{"Range": fmt.Sprintf("bytes=-%d,0-%d", size-100, 99)}, 206, true, int64(size), true},
		{"a resumed download", http.MethodGet, map[string]string{"Range": "bytes=100-"}, 206, false, int64(size - 100), true},
		{"the first 100 bytes", http.MethodGet, map[string]string{"Range": "bytes=0-99"}, 206, false, 100, true},
		{"an unsatisfiable range", http.MethodGet, map[string]string{"Range": fmt.Sprintf("bytes=%d-", size*2)}, 416, false, 0, true},
		{"too many ranges", http.MethodGet, map[string]string{"Range": "bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17"}, 416, false, 0, false},
		{"the file it has", http.MethodGet, map[string]string{"If-None-Match": `"` + r.pub.SHA256 + `"`}, 304, false, 0, false},
		{"a HEAD", http.MethodHead, nil, 200, false, 0, false},
	} {
		before := len(r.audit(t))
		status, _ := r.get(t, c.method, c.hdr)
		if status != c.status {
			t.Errorf("%s: %d, want %d", c.name, status, c.status)
			continue
		}
		// The end is written once the client has its bytes: waited for.
		rows := r.audit(t)[before:]
		for deadline := time.Now().Add(5 * time.Second); c.audited && len(rows) < 2 && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			rows = r.audit(t)[before:]
		}
		if !c.audited {
			time.Sleep(50 * time.Millisecond)
			rows = r.audit(t)[before:]
			if len(rows) != 0 {
				t.Errorf("%s: audited %+v", c.name, rows)
			}
			continue
		}
		if len(rows) != 2 || rows[0].Action != "download-started" || rows[1].Action != "download" {
			t.Errorf("%s: audit %+v", c.name, rows)
			continue
		}
		if end := rows[1]; end.Complete != c.complete || end.BytesSent != c.sent || end.Principal != "requester:acc-1" {
			t.Errorf("%s: recorded %d bytes, complete %v (want %d, %v)", c.name, end.BytesSent, end.Complete, c.sent, c.complete)
		}
	}
	// A Range header of 50 kB is refused or kept short: the audit is not
	// the attacker's storage.
	long := "bytes=0-1" + strings.Repeat(" ", 50_000)
	r.get(t, http.MethodGet, map[string]string{"Range": long})
	for _, a := range r.audit(t) {
		if len(a.Range) > 128 {
			t.Fatalf("the audit keeps a range of %d bytes", len(a.Range))
		}
	}
}

// A file is not served from its expiry instant on, whether or not its
// timer has removed it yet.
func TestAFileIsNotServedPastItsExpiry(t *testing.T) {
	r := newRoute(t)
	ctx := context.Background()
	if _, err := r.clock.Set(ctx, r.expiry.Add(-time.Microsecond), "", ""); err != nil {
		t.Fatal(err)
	}
	if status, _ := r.get(t, http.MethodGet, nil); status != 200 {
		t.Fatalf("a microsecond before its expiry: %d", status)
	}
	if _, err := r.clock.Advance(ctx, time.Microsecond, ""); err != nil {
		t.Fatal(err)
	}
	if status, _ := r.get(t, http.MethodGet, nil); status != 404 {
		t.Fatalf("at its expiry instant, the timer not fired: %d", status)
	}
}
