package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"sinp.occitanie.fr/platform/bus"
	"sinp.occitanie.fr/platform/testenv"
	deliveryv1 "sinp.occitanie.fr/proto/gen/go/sinp/delivery/v1"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/sevenz"
)

func (l *lifecycle) value(name string) string {
	for _, kv := range l.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func (l *lifecycle) httpAddr() string { return l.value("SINP_HTTP_ADDR") }

func get(t *testing.T, l *lifecycle, token, path, rangeHeader string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+l.httpAddr()+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (p *platform) waitCompleted(refs ...string) {
	p.t.Helper()
	for _, ref := range refs {
		deadline := time.Now().Add(90 * time.Second)
		for {
			r, err := p.intake.GetRequest(as(p.admin), &intakev1.GetRequestRequest{Reference: ref})
			if err == nil && r.Request.State == intakev1.RequestState_REQUEST_STATE_COMPLETED {
				break
			}
			if time.Now().After(deadline) {
				p.t.Fatalf("%s not completed: %v %v", ref, r, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

func (p *platform) files(token string) *deliveryv1.ListDropZoneResponse {
	p.t.Helper()
	resp, err := deliveryv1.NewDeliveryServiceClient(p.conn).ListDropZone(as(token), &deliveryv1.ListDropZoneRequest{})
	if err != nil {
		p.t.Fatal(err)
	}
	return resp
}

func manifest(t *testing.T, l *lifecycle, zone string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(l.value("SINP_DATA_DIR"), "dropzones", zone, "MANIFEST.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		sum, path, _ := strings.Cut(s.Text(), "  ")
		out[path] = sum
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Three requesters: an adherent, a pre-adherent's requester, and one
// without an account. Each sees, downloads and learns passwords of its own
// files only, whatever it guesses; the archives pass 7-Zip (F2 with its
// password only) and match their manifests; downloads and passwords are
// audited, a partial download as partial; files expire at their instant,
// postponed once; and a publication killed before its commit leaves one
// complete archive.
func TestDropZonesFromReleaseToExpiry(t *testing.T) {
	p := newPlatform(t, "SINP_DELIVERY_RETENTION=240h")
	deliveries := deliveryv1.NewDeliveryServiceClient(p.conn)
	refA := mustSubmit(t, p, p.adherent, nil)
	refB := mustSubmit(t, p, p.other, nil)
	anon := boxRequest()
	anon.Declared = &intakev1.DeclaredRequester{Name: "Paul Durand", Email: "paul@asso-nature.org", StructureName: "Association Nature"}
	resp, err := p.submit("", anon)
	if err != nil {
		t.Fatal(err)
	}
	refT, tracking := resp.Request.Reference, resp.TrackingToken
	for _, ref := range []string{refA, refB, refT} {
		if _, err := p.intake.InstructRequest(as(p.admin), &intakev1.InstructRequestRequest{Reference: ref, Accept: true}); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range []string{refA, refB, refT} {
		p.waitFor("extraction of "+ref, func(evs []bus.Event) bool { return completion(evs, ref) != nil })
	}
	if _, err := p.sinp("", "clock", "advance", "22d"); err != nil {
		t.Fatal(err)
	}
	p.waitCompleted(refA, refB, refT)

	zoneA, zoneB, zoneT := p.files(p.adherent), p.files(p.other), p.files(tracking)
	var f1A, f2A *deliveryv1.DropZoneFile
	for _, f := range zoneA.Files {
		if f.Reference != refA {
			t.Errorf("the adherent's zone lists %s", f.FileName)
		}
		switch {
		case f.Kind == eventsv1.FileKind_FILE_KIND_F1:
			f1A = f
		case f.Nature == deliveryv1.FileNature_FILE_NATURE_ARCHIVE && f2A == nil:
			f2A = f
		}
	}
	if f1A == nil || f2A == nil || !f2A.Encrypted {
		t.Fatalf("the adherent's zone: %v", zoneA.Files)
	}
	for name, z := range map[string]*deliveryv1.ListDropZoneResponse{"pre-adherent": zoneB, "account-less": zoneT} {
		if len(z.Files) != 1 || z.Files[0].Kind != eventsv1.FileKind_FILE_KIND_F1 {
			t.Errorf("the %s's zone %s: %v (F1 only)", name, z.DropZone, z.Files)
		}
	}
	fileT := zoneT.Files[0]

	t.Run("nobody reaches another's files", func(t *testing.T) {
		for _, c := range []struct {
			who, token, path string
		}{
			{"another requester", p.other, f2A.DownloadPath},
			{"another requester", p.other, f1A.DownloadPath},
			{"a tracking token", tracking, f1A.DownloadPath},
			{"the adherent", p.adherent, fileT.DownloadPath},
			{"a reviewer", p.reviewer, f1A.DownloadPath},
			{"the administrator", p.admin, f2A.DownloadPath},
			{"nobody", "", f1A.DownloadPath},
			{"a guessed name", p.other, "/dropzone/" + refB + "/../" + strings.TrimPrefix(f2A.FileName, refA+"/")},
			{"a traversal", p.other, "/dropzone/" + refB + "/..%2F..%2F" + zoneA.DropZone + "%2F" + strings.ReplaceAll(f2A.FileName, "/", "%2F")},
			{"an encoded traversal", tracking, "/dropzone/%2e%2e/%2e%2e%2f" + zoneA.DropZone},
			{"the manifest", p.other, "/dropzone/" + zoneA.DropZone + "/MANIFEST.sha256"},
		} {
			code, body, _ := get(t, p.lifecycle, c.token, c.path, "")
			if code == http.StatusOK || len(body) > 200 {
				t.Errorf("%s GET %s: %d, %d bytes", c.who, c.path, code, len(body))
			}
		}
		for who, tok := range map[string]string{"another requester": p.other, "the administrator": p.admin, "a tracking token": tracking, "a reviewer": p.reviewer} {
			if _, err := deliveries.GetPassword(as(tok), &deliveryv1.GetPasswordRequest{DeliverableId: f2A.DeliverableId}); status.Code(err) != codes.NotFound && status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s asked the adherent's F2 password: %v", who, err)
			}
			if _, err := deliveries.PostponeExpiry(as(tok), &deliveryv1.PostponeExpiryRequest{DeliverableId: f1A.DeliverableId}); err == nil {
				t.Errorf("%s postponed the adherent's file", who)
			}
		}
		if code, _, _ := get(t, p.lifecycle, tracking, fileT.DownloadPath, ""); code != http.StatusOK {
			t.Errorf("the tracking token cannot download its own file: %d", code)
		}
	})

	t.Run("archives pass 7-Zip and match their manifests; downloads are audited", func(t *testing.T) {
		sums := manifest(t, p.lifecycle, zoneA.DropZone)
		dir := t.TempDir()
		for _, f := range []*deliveryv1.DropZoneFile{f1A, f2A} {
			code, body, hdr := get(t, p.lifecycle, p.adherent, f.DownloadPath, "")
			if code != http.StatusOK || sha(body) != f.Sha256 || sums[f.FileName] != f.Sha256 || hdr.Get("ETag") != `"`+f.Sha256+`"` ||
				!strings.Contains(hdr.Get("Content-Disposition"), filepath.Base(f.FileName)) {
				t.Fatalf("%s: %d, sha %s, manifest %s, headers %v", f.FileName, code, sha(body), sums[f.FileName], hdr)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f.FileName)), body, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		pw, err := deliveries.GetPassword(as(p.adherent), &deliveryv1.GetPasswordRequest{DeliverableId: f2A.DeliverableId})
		if err != nil || len(pw.Password) < 20 {
			t.Fatalf("password: %v %v", pw, err)
		}
		if _, err := deliveries.GetPassword(as(p.adherent), &deliveryv1.GetPasswordRequest{DeliverableId: f1A.DeliverableId}); status.Code(err) != codes.FailedPrecondition {
			t.Errorf("the password of an F1: %v", err)
		}
		if _, err := exec.LookPath("7zz"); err == nil || testenv.CI() {
			f2 := filepath.Join(dir, filepath.Base(f2A.FileName))
			if out, err := exec.Command("7zz", "t", "-p"+pw.Password, f2).CombinedOutput(); err != nil {
				t.Errorf("7zz t with its password: %v\n%s", err, out)
			}
			if _, err := exec.Command("7zz", "t", "-pnot-the-password", f2).CombinedOutput(); err == nil {
				t.Error("7zz t passes with a wrong password")
			}
			if out, err := exec.Command("7zz", "t", filepath.Join(dir, filepath.Base(f1A.FileName))).CombinedOutput(); err != nil {
				t.Errorf("7zz t of F1: %v\n%s", err, out)
			}
		}
		code, part, _ := get(t, p.lifecycle, p.adherent, f1A.DownloadPath, "bytes=0-99")
		if code != http.StatusPartialContent || len(part) != 100 {
			t.Fatalf("a Range download: %d, %d bytes", code, len(part))
		}
		audit, err := deliveries.ListDownloads(as(p.admin), &deliveryv1.ListDownloadsRequest{Reference: refA})
		if err != nil {
			t.Fatal(err)
		}
		var full, partial, shown bool
		for _, a := range audit.Downloads {
			switch {
			case a.Action == deliveryv1.AuditAction_AUDIT_ACTION_PASSWORD_SHOWN && a.DeliverableId == f2A.DeliverableId:
				shown = true
			case a.DeliverableId == f2A.DeliverableId && a.Complete && a.BytesSent == f2A.Bytes && a.Pole == f2A.Pole:
				full = true
			case a.DeliverableId == f1A.DeliverableId && !a.Complete && a.BytesSent == 100 && a.Range == "bytes=0-99":
				partial = true
			}
			if strings.Contains(a.String(), pw.Password) {
				t.Error("the audit holds a password")
			}
		}
		if !full || !partial || !shown {
			t.Fatalf("audit (full F2 %v, partial F1 %v, password shown %v): %v", full, partial, shown, audit.Downloads)
		}
		if _, err := deliveries.ListDownloads(as(p.adherent), &deliveryv1.ListDownloadsRequest{}); status.Code(err) != codes.PermissionDenied {
			t.Errorf("a requester read the audit: %v", err)
		}
		// The password is in no event and no log.
		for _, ev := range p.events() {
			if strings.Contains(fmt.Sprint(ev), pw.Password) {
				t.Errorf("an event holds the F2 password: %T", ev)
			}
		}
		if strings.Contains(p.logs.String(), pw.Password) {
			t.Error("the logs hold the F2 password")
		}
	})

	t.Run("the CLI: ls, get, password, audit", func(t *testing.T) {
		env := func(token string) []string { return append(slices.Clone(p.env), "SINP_TOKEN="+token) }
		out, err := run(t, env(p.adherent), "delivery", "ls", refA, "--addr", p.addr, "--json")
		if err != nil || !strings.Contains(out, f2A.DeliverableId) || strings.Contains(out, refB) {
			t.Fatalf("delivery ls %s: %v\n%s", refA, err, out)
		}
		dest := filepath.Join(t.TempDir(), "f2.7z")
		out, err = run(t, env(p.adherent), "delivery", "get", f2A.FileName, "-o", dest, "--json")
		if err != nil || !strings.Contains(out, f2A.Sha256) {
			t.Fatalf("delivery get: %v\n%s", err, out)
		}
		if b, _ := os.ReadFile(dest); sha(b) != f2A.Sha256 {
			t.Fatal("delivery get wrote another file than the zone's")
		}
		out, err = run(t, env(p.adherent), "delivery", "password", f2A.DeliverableId, "--addr", p.addr, "--json")
		var pw struct{ Password string }
		if err != nil || json.Unmarshal([]byte(out), &pw) != nil || pw.Password == "" {
			t.Fatalf("delivery password: %v\n%s", err, out)
		}
		if err := sevenz.Check(dest, pw.Password); err != nil {
			t.Fatalf("the downloaded F2 with the password the CLI shows: %v", err)
		}
		// Another requester: neither the file nor its password.
		stolen := filepath.Join(t.TempDir(), "stolen.7z")
		if _, err := run(t, env(p.other), "delivery", "get", f2A.FileName, "-o", stolen, "--json"); err == nil {
			t.Error("another requester downloaded the adherent's F2 with the CLI")
		}
		if _, err := os.Stat(stolen); err == nil {
			t.Error("a refused download left a file")
		}
		if _, err := run(t, env(p.other), "delivery", "password", f2A.DeliverableId, "--addr", p.addr, "--json"); err == nil {
			t.Error("another requester was shown the adherent's password")
		}
		if out, err := run(t, env(p.other), "delivery", "audit", "--request", refA, "--addr", p.addr, "--json"); err == nil {
			t.Errorf("a requester read the audit:\n%s", out)
		}
		out, err = run(t, env(p.admin), "delivery", "audit", "--request", refA, "--addr", p.addr, "--json")
		if err != nil || !strings.Contains(out, f2A.DeliverableId) || strings.Contains(out, pw.Password) {
			t.Fatalf("delivery audit: %v\n%s", err, out)
		}
	})

	t.Run("files expire at their instant, postponed once", func(t *testing.T) {
		if _, err := deliveries.PostponeExpiry(as(p.adherent), &deliveryv1.PostponeExpiryRequest{DeliverableId: f2A.DeliverableId}); err != nil {
			t.Fatal(err)
		}
		if _, err := deliveries.PostponeExpiry(as(p.adherent), &deliveryv1.PostponeExpiryRequest{DeliverableId: f2A.DeliverableId}); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("a second postponement: %v", err)
		}
		expires := f1A.ExpiresAt.AsTime()
		now := clockNow(t, p.lifecycle)
		if _, err := p.sinp("", "clock", "advance", (expires.Sub(now).Truncate(time.Microsecond) - time.Microsecond).String()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		if code, _, _ := get(t, p.lifecycle, p.adherent, f1A.DownloadPath, ""); code != http.StatusOK {
			t.Fatalf("a microsecond before its expiry, F1: %d", code)
		}
		if _, err := p.sinp("", "clock", "advance", "1us"); err != nil {
			t.Fatal(err)
		}
		p.waitFor("F1 expired", func(evs []bus.Event) bool {
			for _, ev := range evs {
				if e, ok := ev.(*eventsv1.ArchiveExpired); ok && e.GetDeliverableId() == f1A.DeliverableId {
					return true
				}
			}
			return false
		})
		if code, _, _ := get(t, p.lifecycle, p.adherent, f1A.DownloadPath, ""); code != http.StatusNotFound {
			t.Fatalf("an expired F1: %d", code)
		}
		if _, err := os.Stat(filepath.Join(p.value("SINP_DATA_DIR"), "dropzones", zoneA.DropZone, f1A.FileName)); err == nil {
			t.Fatal("the expired file is still in the zone")
		}
		if sums := manifest(t, p.lifecycle, zoneA.DropZone); sums[f1A.FileName] != "" || sums[f2A.FileName] == "" {
			t.Fatalf("the manifest after F1 expired: %v", sums)
		}
		if code, _, _ := get(t, p.lifecycle, p.adherent, f2A.DownloadPath, ""); code != http.StatusOK {
			t.Fatalf("the postponed F2: %d", code)
		}
		// The extractor deletes the expired file's staged copy; the
		// postponed F2's, still published, stays.
		staged := map[string]string{}
		for _, d := range completion(p.events(), refA).GetDeliverables() {
			staged[d.GetDeliverableId()] = filepath.Join(p.value("SINP_DATA_DIR"), "staging", d.GetStagedPath())
		}
		for deadline := time.Now().Add(30 * time.Second); ; {
			if _, err := os.Stat(staged[f1A.DeliverableId]); errors.Is(err, fs.ErrNotExist) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the expired F1 is still staged: %s", staged[f1A.DeliverableId])
			}
			time.Sleep(100 * time.Millisecond)
		}
		if _, err := os.Stat(staged[f2A.DeliverableId]); err != nil {
			t.Fatalf("the postponed F2's staged copy: %v", err)
		}
		audit, _ := deliveries.ListDownloads(as(p.admin), &deliveryv1.ListDownloadsRequest{Reference: refA})
		if len(audit.GetDownloads()) == 0 {
			t.Fatal("the audit went with the file")
		}
		// The requester's history says so.
		deadline := time.Now().Add(30 * time.Second)
		for {
			r, err := p.intake.GetRequest(as(p.adherent), &intakev1.GetRequestRequest{Reference: refA})
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(r.Request.History, func(h *intakev1.HistoryEntry) bool {
				return h.What == "expired" && h.Detail == f1A.FileName
			}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no expiry in the history of %s: %v", refA, r.Request.History)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("a publication killed before its commit leaves one complete archive", func(t *testing.T) {
		ref := mustSubmit(t, p, p.adherent, nil)
		if _, err := p.intake.InstructRequest(as(p.admin), &intakev1.InstructRequestRequest{Reference: ref, Accept: true}); err != nil {
			t.Fatal(err)
		}
		p.waitFor("extraction of "+ref, func(evs []bus.Event) bool { return completion(evs, ref) != nil })
		p.published()
		p.kill()
		p.start("SINP_TEST_KILL_BEFORE_PUBLISH_COMMIT=1")
		if _, err := p.sinp("", "clock", "advance", "6d"); err != nil {
			t.Fatal(err)
		}
		died := p.waitDeath(60 * time.Second)
		if st, ok := died.ProcessState.Sys().(syscall.WaitStatus); !ok || !st.Signaled() || st.Signal() != syscall.SIGKILL {
			t.Fatalf("not killed in the publication: %v", died.ProcessState)
		}
		p.start()
		var f1 *deliveryv1.DropZoneFile
		deadline := time.Now().Add(60 * time.Second)
		for f1 == nil {
			for _, f := range p.files(p.adherent).Files {
				if f.Reference == ref && f.Kind == eventsv1.FileKind_FILE_KIND_F1 {
					f1 = f
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("F1 never published after the restart")
			}
			time.Sleep(200 * time.Millisecond)
		}
		entries, err := os.ReadDir(filepath.Join(p.value("SINP_DATA_DIR"), "dropzones", zoneA.DropZone, ref))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) != 1 || names[0] != filepath.Base(f1.FileName) {
			t.Fatalf("the zone's folder for %s holds %v", ref, names)
		}
		body, _ := os.ReadFile(filepath.Join(p.value("SINP_DATA_DIR"), "dropzones", zoneA.DropZone, f1.FileName))
		if sha(body) != f1.Sha256 || manifest(t, p.lifecycle, zoneA.DropZone)[f1.FileName] != f1.Sha256 {
			t.Fatal("the archive after the crash is not the one recorded")
		}
		n := 0
		for _, ev := range p.events() {
			if e, ok := ev.(*eventsv1.ArchivePublished); ok && e.GetDeliverableId() == f1.DeliverableId {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d ArchivePublished for one archive", n)
		}
	})
}

func mustSubmit(t *testing.T, p *platform, token string, edit func(*intakev1.SubmitRequestRequest)) string {
	t.Helper()
	req := boxRequest()
	if edit != nil {
		edit(req)
	}
	resp, err := p.submit(token, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Request.Reference
}
