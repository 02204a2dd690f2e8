package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"strings"

	"sinp.occitanie.fr/platform/cli"
	"sinp.occitanie.fr/platform/config"
	deliveryv1 "sinp.occitanie.fr/proto/gen/go/sinp/delivery/v1"
)

// Commands are `sinp delivery ls|get|password|audit|postpone`, clients of
// a running delivery service with the caller's token.
func Commands() []*cli.Command {
	return []*cli.Command{{Name: "delivery", Summary: "your drop zone (ls, get, password, postpone) and the download audit",
		Sub: []*cli.Command{lsCommand(), getCommand(), passwordCommand(), auditCommand(), postponeCommand()}}}
}

func client(ctx context.Context, e *cli.Env, addr string) (deliveryv1.DeliveryServiceClient, context.Context, func(), error) {
	return cli.Connect(ctx, e, addr, cli.AsUser, deliveryv1.NewDeliveryServiceClient)
}

func lsCommand() *cli.Command {
	c := &cli.Command{Name: "ls", Summary: "the files published in your drop zone", Usage: "sinp delivery ls [REQUEST] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the delivery service (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		req := &deliveryv1.ListDropZoneRequest{PageSize: 500}
		if len(pos) == 1 {
			req.Reference = pos[0]
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		all := &deliveryv1.ListDropZoneResponse{}
		for {
			resp, err := cl.ListDropZone(cctx, req)
			if err != nil {
				return fmt.Errorf("delivery ls: %w", err)
			}
			all.DropZone = resp.DropZone
			all.Files = append(all.Files, resp.Files...)
			if req.PageToken = resp.NextPageToken; req.PageToken == "" {
				break
			}
		}
		return e.Output(*asJSON).ResultProto(all, func(w io.Writer) {
			fmt.Fprintf(w, "drop zone %s\n", all.DropZone)
			for _, f := range all.Files {
				state := "expires " + cli.When(f.ExpiresAt)
				if f.Expired {
					state = "expired"
				}
				fmt.Fprintf(w, "  %-48s %10d bytes  %s %s released %s (%s), %s\n    sha256 %s\n", f.FileName, f.Bytes,
					cli.Enum(f.Kind, "FILE_KIND_"), cli.Enum(f.Nature, "FILE_NATURE_"), cli.When(f.ReleasedAt), cli.Enum(f.Rule, "RELEASE_RULE_"), state, f.Sha256)
			}
		})
	}
	return c
}

type httpConfig struct {
	Addr string `env:"SINP_HTTP_ADDR" default:"127.0.0.1:7401"`
}

func getCommand() *cli.Command {
	c := &cli.Command{Name: "get", Summary: "download a file of your drop zone, checked against its SHA-256",
		Usage: "sinp delivery get REFERENCE/FILE [-o PATH] [--http HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		var hc httpConfig
		if err := config.Load(&hc, e.Lookup); err != nil {
			return err
		}
		fs := c.Flags(e)
		addr := fs.String("http", hc.Addr, "HTTP address of the delivery service (default: SINP_HTTP_ADDR)")
		out := fs.String("o", "", "where to write it (default: its name, here)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 || strings.Count(pos[0], "/") != 1 {
			return cli.Usagef("delivery get needs REFERENCE/FILE, as `sinp delivery ls` lists it")
		}
		file := strings.TrimPrefix(pos[0], "/dropzone/")
		if *out == "" {
			*out = path.Base(file)
		}
		tok, err := e.SavedToken()
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+*addr+"/dropzone/"+file, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("delivery get: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			return fmt.Errorf("delivery get: %s: %s", resp.Status, strings.TrimSpace(string(b)))
		}
		// Written aside and renamed once whole and checked: an interrupted
		// or corrupted download never leaves a file under its name.
		part := *out + ".part"
		f, err := os.Create(part)
		if err != nil {
			return err
		}
		defer os.Remove(part)
		o := e.Output(*asJSON)
		h := sha256.New()
		n, err := io.Copy(io.MultiWriter(f, h), &progressReader{r: resp.Body, o: o, total: resp.ContentLength})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("delivery get: %w", err)
		}
		sum := hex.EncodeToString(h.Sum(nil))
		if etag := strings.Trim(resp.Header.Get("ETag"), `"`); etag != "" && etag != sum {
			return fmt.Errorf("delivery get: %s arrived with SHA-256 %s, the drop zone says %s: try again", *out, sum, etag)
		}
		if err := os.Rename(part, *out); err != nil {
			return fmt.Errorf("delivery get: %w", err)
		}
		return o.Result(map[string]any{"file": *out, "bytes": n, "sha256": sum}, func(w io.Writer) {
			fmt.Fprintf(w, "%s: %d bytes, SHA-256 %s (checked)\n", *out, n, sum)
		})
	}
	return c
}

type progressReader struct {
	r     io.Reader
	o     *cli.Output
	n     int64
	total int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	p.o.Progress("downloading", p.n, p.total)
	return n, err
}

func passwordCommand() *cli.Command {
	c := &cli.Command{Name: "password", Summary: "the password of one of your F2 archives (every showing is audited)",
		Usage: "sinp delivery password DELIVERABLE_ID [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the delivery service (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.Usagef("delivery password needs a deliverable id, like R-2026-000001/F2/oiseaux")
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.GetPassword(cctx, &deliveryv1.GetPasswordRequest{DeliverableId: pos[0]})
		if err != nil {
			return fmt.Errorf("delivery password: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp, func(w io.Writer) { fmt.Fprintln(w, resp.Password) })
	}
	return c
}

func auditCommand() *cli.Command {
	c := &cli.Command{Name: "audit", Summary: "who downloaded what and who was shown which password (administrator)",
		Usage: "sinp delivery audit [--request R] [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the delivery service (default: SINP_GRPC_ADDR)")
		ref := fs.String("request", "", "one request's records")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if _, err := cli.Parse(fs, args); err != nil {
			return err
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		all := &deliveryv1.ListDownloadsResponse{}
		req := &deliveryv1.ListDownloadsRequest{Reference: *ref, PageSize: 1000}
		for {
			resp, err := cl.ListDownloads(cctx, req)
			if err != nil {
				return fmt.Errorf("delivery audit: %w", err)
			}
			all.Downloads = append(all.Downloads, resp.Downloads...)
			if req.PageToken = resp.NextPageToken; req.PageToken == "" {
				break
			}
		}
		return e.Output(*asJSON).ResultProto(all, func(w io.Writer) {
			for _, d := range all.Downloads {
				complete := "partial"
				if d.Complete {
					complete = "complete"
				}
				fmt.Fprintf(w, "%s %-15s %-32s %-40s %10d bytes %s from %s %s\n", cli.When(d.At), cli.Enum(d.Action, "AUDIT_ACTION_"), d.Who,
					d.FileName, d.BytesSent, complete, d.RemoteAddr, d.Range)
			}
		})
	}
	return c
}

func postponeCommand() *cli.Command {
	c := &cli.Command{Name: "postpone", Summary: "keep a published file one more retention period (once)",
		Usage: "sinp delivery postpone DELIVERABLE_ID [--addr HOST:PORT] [--json]"}
	c.Run = func(ctx context.Context, e *cli.Env, args []string) error {
		fs := c.Flags(e)
		addr := fs.String("addr", "", "gRPC address of the delivery service (default: SINP_GRPC_ADDR)")
		asJSON := fs.Bool("json", false, "print the result as JSON")
		pos, err := cli.Parse(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return cli.Usagef("delivery postpone needs a deliverable id")
		}
		cl, cctx, closeFn, err := client(ctx, e, *addr)
		if err != nil {
			return err
		}
		defer closeFn()
		resp, err := cl.PostponeExpiry(cctx, &deliveryv1.PostponeExpiryRequest{DeliverableId: pos[0]})
		if err != nil {
			return fmt.Errorf("delivery postpone: %w", err)
		}
		return e.Output(*asJSON).ResultProto(resp.File, func(w io.Writer) {
			fmt.Fprintf(w, "%s now expires %s\n", resp.File.FileName, cli.When(resp.File.ExpiresAt))
		})
	}
	return c
}
