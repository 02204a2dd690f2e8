// Package api is the delivery service's gRPC API and its HTTP download
// route: who may call what (Access; inside, a requester reaches its own
// drop zone only, a tracking token its one request's files), requests into
// use cases, every download audited.
package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"sinp.occitanie.fr/platform/auth"
	"sinp.occitanie.fr/platform/grpcserver"
	deliveryv1 "sinp.occitanie.fr/proto/gen/go/sinp/delivery/v1"
	eventsv1 "sinp.occitanie.fr/proto/gen/go/sinp/events/v1"
	"sinp.occitanie.fr/services/delivery/app"
	"sinp.occitanie.fr/services/delivery/store"
	"sinp.occitanie.fr/services/delivery/zone"
)

// Access says who may call each DeliveryService method.
var Access = auth.Rules{
	deliveryv1.DeliveryService_ListDropZone_FullMethodName:   auth.Allow(auth.Requester, auth.Tracking),
	deliveryv1.DeliveryService_GetPassword_FullMethodName:    auth.Allow(auth.Requester),
	deliveryv1.DeliveryService_ListDownloads_FullMethodName:  auth.Allow(auth.Administrator),
	deliveryv1.DeliveryService_PostponeExpiry_FullMethodName: auth.Allow(auth.Requester, auth.Tracking),
}

// DownloadRoute is the HTTP pattern files are downloaded from.
const DownloadRoute = "GET /dropzone/{reference}/{file}"

// Server serves sinp.delivery.v1.DeliveryService.
type Server struct {
	deliveryv1.UnimplementedDeliveryServiceServer
	App *app.Service
}

func errorStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, app.ErrNotFound):
		return status.Error(codes.NotFound, "no such file (or not yours)")
	case errors.Is(err, app.ErrNoPassword), errors.Is(err, app.ErrPostponed), errors.Is(err, app.ErrExpired):
		return status.Error(codes.FailedPrecondition, err.Error())
	case status.Code(err) != codes.Unknown:
		return err
	}
	return status.Error(codes.Unavailable, "delivery: "+err.Error())
}

func kindProto(k string) eventsv1.FileKind {
	if k == "F2" {
		return eventsv1.FileKind_FILE_KIND_F2
	}
	return eventsv1.FileKind_FILE_KIND_F1
}

// FileProto is a publication as the API shows it at now: a file past its
// expiry instant is expired, whether or not its timer has removed it.
func FileProto(p store.Publication, now time.Time) *deliveryv1.DropZoneFile {
	f := &deliveryv1.DropZoneFile{FileName: p.Path, Reference: p.Reference, DeliverableId: p.DeliverableID, Kind: kindProto(p.Kind),
		Pole: p.Pole, Sha256: p.SHA256, Bytes: p.Bytes, Rows: p.Rows, Encrypted: p.Encrypted, PublishedAt: timestamppb.New(p.PublishedAt),
		Postponed: p.Postponed, Expired: app.Gone(p, now), Nature: deliveryv1.FileNature_FILE_NATURE_ARCHIVE}
	if p.Nature == "notice" {
		f.Nature = deliveryv1.FileNature_FILE_NATURE_NOTICE
	}
	if v, ok := eventsv1.ReleaseRule_value["RELEASE_RULE_"+strings.ToUpper(p.Rule)]; ok {
		f.Rule = eventsv1.ReleaseRule(v)
	}
	if !p.ReleasedAt.IsZero() {
		f.ReleasedAt = timestamppb.New(p.ReleasedAt)
	}
	if !p.ExpiresAt.IsZero() {
		f.ExpiresAt = timestamppb.New(p.ExpiresAt)
	}
	if !f.Expired {
		f.DownloadPath = "/dropzone/" + p.Path
	}
	return f
}

func (s *Server) ListDropZone(ctx context.Context, req *deliveryv1.ListDropZoneRequest) (*deliveryv1.ListDropZoneResponse, error) {
	size := int(req.GetPageSize())
	if size <= 0 || size > 500 {
		size = 200
	}
	z, list, err := s.App.Files(ctx, auth.FromContext(ctx), req.GetReference(), req.GetPageToken(), size+1)
	if err != nil {
		return nil, errorStatus(err)
	}
	resp := &deliveryv1.ListDropZoneResponse{DropZone: z}
	if len(list) > size {
		list = list[:size]
		resp.NextPageToken = list[size-1].Path
	}
	now := s.App.Clock.Now()
	for _, p := range list {
		resp.Files = append(resp.Files, FileProto(p, now))
	}
	return resp, nil
}

func (s *Server) GetPassword(ctx context.Context, req *deliveryv1.GetPasswordRequest) (*deliveryv1.GetPasswordResponse, error) {
	if req.GetDeliverableId() == "" {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "deliverable_id", Description: "required"})
	}
	pw, err := s.App.Password(ctx, auth.FromContext(ctx), req.GetDeliverableId(), grpcserver.Caller(ctx))
	if err != nil {
		return nil, errorStatus(err)
	}
	return &deliveryv1.GetPasswordResponse{DeliverableId: req.GetDeliverableId(), Password: pw}, nil
}

func (s *Server) ListDownloads(ctx context.Context, req *deliveryv1.ListDownloadsRequest) (*deliveryv1.ListDownloadsResponse, error) {
	size := int(req.GetPageSize())
	if size <= 0 || size > 1000 {
		size = 200
	}
	var after int64
	if req.GetPageToken() != "" {
		n, err := strconv.ParseInt(req.GetPageToken(), 10, 64)
		if err != nil {
			return nil, grpcserver.Invalid(grpcserver.Violation{Field: "page_token", Description: "not a token this service gave"})
		}
		after = n
	}
	list, err := store.Audits(ctx, s.App.DB, req.GetReference(), after, size)
	if err != nil {
		return nil, errorStatus(err)
	}
	resp := &deliveryv1.ListDownloadsResponse{}
	for _, a := range list {
		action := deliveryv1.AuditAction_AUDIT_ACTION_DOWNLOAD
		switch a.Action {
		case "password":
			action = deliveryv1.AuditAction_AUDIT_ACTION_PASSWORD_SHOWN
		case "download-started":
			action = deliveryv1.AuditAction_AUDIT_ACTION_DOWNLOAD_STARTED
		}
		resp.Downloads = append(resp.Downloads, &deliveryv1.DownloadRecord{Id: a.ID, Action: action, Who: a.Principal, Reference: a.Reference,
			DeliverableId: a.DeliverableID, Pole: a.Pole, FileName: a.Path, At: timestamppb.New(a.At), RemoteAddr: a.Address,
			BytesSent: a.BytesSent, Complete: a.Complete, Range: a.Range})
	}
	if len(list) == size {
		resp.NextPageToken = strconv.FormatInt(list[len(list)-1].ID, 10)
	}
	return resp, nil
}

func (s *Server) PostponeExpiry(ctx context.Context, req *deliveryv1.PostponeExpiryRequest) (*deliveryv1.PostponeExpiryResponse, error) {
	if req.GetDeliverableId() == "" {
		return nil, grpcserver.Invalid(grpcserver.Violation{Field: "deliverable_id", Description: "required"})
	}
	p, err := s.App.Postpone(ctx, auth.FromContext(ctx), req.GetDeliverableId())
	if err != nil {
		return nil, errorStatus(err)
	}
	return &deliveryv1.PostponeExpiryResponse{File: FileProto(p, s.App.Clock.Now())}, nil
}

// Downloads serves a drop zone's files over HTTP, to their requester only:
// Range, ETag (the SHA-256) and Content-Disposition; each download audited
// with the bytes sent and whether the whole file went out.
type Downloads struct {
	App  *app.Service
	Auth *auth.Authenticator
	DB   *pgxpool.Pool
}

// counting counts what a response sends, and gives each write a deadline:
// a client that takes nothing for WriteStall is cut off, so that a slow
// reader does not hold a connection and an open file for ever.
type counting struct {
	http.ResponseWriter
	rc     *http.ResponseController
	n      int64
	status int
	// failed: a write did not reach the client (gone, stalled).
	failed bool
}

// WriteStall is how long one write may wait for the client.
const WriteStall = time.Minute

func (c *counting) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *counting) Write(b []byte) (int, error) {
	_ = c.rc.SetWriteDeadline(time.Now().Add(WriteStall))
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	c.failed = c.failed || err != nil
	return n, err
}

// MaxRanges is the most ranges one request may ask for.
const MaxRanges = 8

// auditedRange is what the audit keeps of a Range header: enough to tell
// a resumed download from a whole one, bounded.
func auditedRange(h string) string {
	if len(h) > 128 {
		return h[:125] + "..."
	}
	return h
}

// reading is a published file as ServeContent reads it: which of its bytes
// went out, for the audit (ranges, a suffix, several at once: what the
// client asked is not parsed again, what was read is counted).
type reading struct {
	io.ReadSeeker
	// mu: ServeContent reads several ranges from a goroutine of its own,
	// which may still be reading when the handler, its client gone, audits.
	mu    sync.Mutex
	pos   int64
	spans [][2]int64 // read, in order; a read that continues one extends it
	n     int64
}

func (r *reading) Read(b []byte) (int, error) {
	n, err := r.ReadSeeker.Read(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 {
		if k := len(r.spans); k > 0 && r.spans[k-1][1] == r.pos {
			r.spans[k-1][1] += int64(n)
		} else {
			r.spans = append(r.spans, [2]int64{r.pos, r.pos + int64(n)})
		}
		r.pos += int64(n)
		r.n += int64(n)
	}
	return n, err
}

func (r *reading) Seek(offset int64, whence int) (int64, error) {
	p, err := r.ReadSeeker.Seek(offset, whence)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.pos = p
	}
	return p, err
}

// read is how many bytes were read.
func (r *reading) read() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// covers says whether the bytes read cover the whole file of size bytes.
func (r *reading) covers(size int64) bool {
	r.mu.Lock()
	spans := slices.Clone(r.spans)
	r.mu.Unlock()
	slices.SortFunc(spans, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	end := int64(0)
	for _, s := range spans {
		if s[0] > end {
			return false
		}
		end = max(end, s[1])
	}
	return end >= size
}

func (h *Downloads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, code, msg := h.Auth.HTTP(r, auth.Requester, auth.Tracking)
	if code != http.StatusOK {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sinp"`)
		http.Error(w, msg, code)
		return
	}
	ref, name := r.PathValue("reference"), r.PathValue("file")
	path, err := zone.Path(ref, name)
	z := app.ZoneOf(p)
	// Whatever is wrong (a name the system would not make, another's file,
	// an expired one), the answer is the same.
	notFound := func() { http.Error(w, "no such file", http.StatusNotFound) }
	if err != nil || z == "" {
		notFound()
		return
	}
	pub, err := store.ByPath(r.Context(), h.DB, z, path)
	if err != nil || !app.Owns(p, pub) {
		notFound()
		return
	}
	now, err := h.App.Now(r.Context())
	if err != nil {
		http.Error(w, "the platform's clock cannot be read now: try again shortly", http.StatusServiceUnavailable)
		return
	}
	if app.Gone(pub, now) {
		notFound()
		return
	}
	rangeHeader := r.Header.Get("Range")
	if strings.Count(rangeHeader, ",") >= MaxRanges {
		http.Error(w, fmt.Sprintf("at most %d ranges", MaxRanges), http.StatusRequestedRangeNotSatisfiable)
		return
	}
	f, st, err := h.App.Zones.Open(z, path)
	if err != nil {
		notFound()
		return
	}
	defer f.Close()
	if st.Size() != pub.Bytes {
		h.App.Log.Error("delivery: a drop-zone file differs from its record; not served", "zone", z, "path", path)
		http.Error(w, "this file differs from its record: the platform's operators are told", http.StatusServiceUnavailable)
		return
	}
	host := grpcserver.Host(r.RemoteAddr)
	a := store.Audit{At: h.App.Clock.Now(), Action: "download-started", Principal: p.String(), Reference: pub.Reference,
		DeliverableID: pub.DeliverableID, Pole: pub.Pole, Path: pub.Path, Address: host, Range: auditedRange(rangeHeader)}
	// The client has a byte only once its start is traced; its end is
	// written even if the client went away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	// The ETag is the validator: a client that has the file is answered
	// here, before anything is audited (If-Modified-Since is not used).
	etag := `"` + pub.SHA256 + `"`
	if inm := r.Header.Get("If-None-Match"); inm != "" && (strings.Contains(inm, etag) || strings.TrimSpace(inm) == "*") {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	r.Header.Del("If-None-Match")
	r.Header.Del("If-Modified-Since")
	if r.Method != http.MethodHead {
		if err := store.AddAudit(ctx, h.DB, a); err != nil {
			h.App.Log.Error("delivery: a download cannot be audited; refused", "deliverable", pub.DeliverableID, "err", err)
			http.Error(w, "the download cannot be recorded now: try again shortly", http.StatusServiceUnavailable)
			return
		}
	}
	hdr := w.Header()
	hdr.Set("ETag", etag)
	hdr.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	hdr.Set("Cache-Control", "private, no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if pub.Nature == "notice" {
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		hdr.Set("Content-Type", "application/x-7z-compressed")
	}
	cw := &counting{ResponseWriter: w, rc: http.NewResponseController(w), status: http.StatusOK}
	rd := &reading{ReadSeeker: f}
	http.ServeContent(cw, r, name, pub.PublishedAt, rd)
	if r.Method == http.MethodHead {
		return
	}
	// The file's bytes, not multipart headers nor an error's text; of a
	// response cut short, no more than went out.
	sent, complete := rd.read(), false
	switch {
	case cw.status != http.StatusOK && cw.status != http.StatusPartialContent:
		sent = 0
	case cw.failed:
		sent = min(sent, cw.n)
	default:
		complete = rd.covers(st.Size())
	}
	a.At, a.Action, a.BytesSent, a.Complete = h.App.Clock.Now(), "download", sent, complete
	if err := store.AddAudit(ctx, h.DB, a); err != nil {
		h.App.Log.Error("delivery: the end of a download could not be audited", "deliverable", pub.DeliverableID, "principal", p.String(), "err", err)
	}
}
