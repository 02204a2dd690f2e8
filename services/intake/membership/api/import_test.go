package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"strings"
	"testing"
	"time"

	"sinp.occitanie.fr/platform/grpcserver"
	"sinp.occitanie.fr/platform/shareddata"
	intakev1 "sinp.occitanie.fr/proto/gen/go/sinp/intake/v1"
	"sinp.occitanie.fr/services/intake/membership/internal/testserver"
)

// The registry as the technical committee of June 2020 listed it: 41
// pre-adherents, 13 proposed for promotion, each with its date of request
// and the DREAL's remark; importing it again changes nothing.
func TestImportTheRealRegistry(t *testing.T) {
	data, err := os.ReadFile(shareddata.Require(t, "registry", "pre-adherents-2020.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, data)
	srv := testserver.Start(t)
	cl := srv.Client
	// A deployment is bootstrapped by its operator, before any administrator
	// has an account.
	op := srv.As(t, testserver.Operator)

	first, err := cl.ImportRegistry(op, &intakev1.ImportRegistryRequest{Csv: data})
	if err != nil {
		t.Fatal(err)
	}
	if first.Created != 41 || first.Updated != 0 || len(first.ProposedForPromotion) != 13 {
		t.Fatalf("first import: %d created, %d updated, %d proposed", first.Created, first.Updated, len(first.ProposedForPromotion))
	}
	second, err := cl.ImportRegistry(op, &intakev1.ImportRegistryRequest{Csv: data})
	if err != nil {
		t.Fatal(err)
	}
	if second.Created != 0 || second.Updated != 0 || strings.Join(second.ProposedForPromotion, ",") != strings.Join(first.ProposedForPromotion, ",") {
		t.Fatalf("second import: %v", second)
	}

	admin := srv.As(t, testserver.Admin)
	list, err := cl.ListStructures(admin, &intakev1.ListStructuresRequest{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Structures) != 41 {
		t.Fatalf("%d structures in the registry", len(list.Structures))
	}
	byRegistry := map[string]*intakev1.Structure{}
	for _, s := range list.Structures {
		byRegistry[s.RegistryId] = s
		if s.Status != preAdherent {
			t.Errorf("%s is %s", s.Name, s.Status)
		}
	}
	proposed := map[string]bool{}
	for _, id := range first.ProposedForPromotion {
		proposed[id] = true
	}
	for _, r := range rows {
		s := byRegistry[r[0]]
		if s == nil {
			t.Errorf("id_adher %s (%s) not imported", r[0], r[1])
			continue
		}
		day := s.RequestedAt.AsTime().Format(time.DateOnly)
		if s.Name != r[1] || day != r[2] || s.Remarks != r[4] || proposed[s.Id] != (r[3] == "promotion") {
			t.Errorf("id_adher %s: %q asked %s, remarks %q, proposed %v; the file says %q", r[0], s.Name, day, s.Remarks, proposed[s.Id], r)
		}
	}
	faunae, err := cl.GetStructure(admin, &intakev1.GetStructureRequest{Id: byRegistry["6"].Id})
	if err != nil {
		t.Fatal(err)
	}
	if h := faunae.Structure.History; len(h) != 1 || h[0].To != preAdherent || h[0].By != "operator:op-1" || !strings.Contains(h[0].Remarks, "id_adher 6") {
		t.Errorf("Faunae's history: %v", h)
	}
	if evs := srv.Events(t); len(evs) != 0 {
		t.Errorf("entering the registry as a pre-adherent announced %d events", len(evs))
	}

	// The registry corrects a remark: that structure only is updated.
	edited := bytes.Replace(data, []byte("Demande l'avis des pôles\n"), []byte("Avis des pôles demandé le 18 juin\n"), 1)
	third, err := cl.ImportRegistry(admin, &intakev1.ImportRegistryRequest{Csv: edited})
	if err != nil || third.Created != 0 || third.Updated != 1 {
		t.Fatalf("an edited registry: %v %v", third, err)
	}
	faunae, _ = cl.GetStructure(admin, &intakev1.GetStructureRequest{Id: byRegistry["6"].Id})
	if faunae.Structure.Remarks != "Avis des pôles demandé le 18 juin" {
		t.Errorf("remarks after the correction: %q", faunae.Structure.Remarks)
	}
}

// A bad row refuses the whole file, naming its line and column; nothing
// of it is imported.
func TestABadRegistryIsRefusedWhole(t *testing.T) {
	srv := testserver.Start(t)
	cl, admin := srv.Client, srv.As(t, testserver.Admin)
	const header = "id_adher;structure;date_demande;proposition;remarque\n"
	const good = "6;Faunae;2019-04-29;promotion;Demande l'avis des pôles\n13;CRB Environnement;2019-05-16;promotion;\n"
	rows := []struct {
		name, csv, want string
	}{
		{"a date written the French way", header + good + "19;SIRE Conseil;19/06/2019;promotion;\n", "line 4, date_demande"},
		{"an id that is not a number", header + good + "x19;SIRE Conseil;2019-06-19;;\n", "line 4, id_adher"},
		{"an id twice", header + good + "6;Faunae (doublon);2019-06-19;;\n", "line 4, id_adher: 6 is already on line 2"},
		{"a row left empty", header + ";;;;\n" + good, "line 2, id_adher"},
		{"an unknown proposition", header + good + "19;SIRE Conseil;2019-06-19;adhérent;\n", "line 4, proposition"},
		{"a missing field", header + good + "19;SIRE Conseil;2019-06-19\n", "line 4, proposition"},
		{"a header of another file", "id;nom;date\n" + good, "line 1, id"},
		{"Latin-1", header + "6;Faunae;2019-04-29;;p\xf4les\n", "line 2: not UTF-8"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			_, err := cl.ImportRegistry(admin, &intakev1.ImportRegistryRequest{Csv: []byte(r.csv)})
			if !violates(err, "csv") {
				t.Fatalf("%v, want a violation of csv", err)
			}
			found := false
			for _, v := range grpcserver.Violations(err) {
				found = found || strings.HasPrefix(v.Description, r.want)
			}
			if !found {
				t.Errorf("%v, want %q", grpcserver.Violations(err), r.want)
			}
			list, err := cl.ListStructures(admin, &intakev1.ListStructuresRequest{})
			if err != nil || len(list.Structures) != 0 {
				t.Errorf("a refused file left %d structures (%v)", len(list.GetStructures()), err)
			}
		})
	}
	big := make([]byte, 10<<20+1)
	if _, err := srv.App.Import(context.Background(), "test", big); err == nil {
		t.Error("a file over 10 MiB was read")
	}
}

func readCSV(t *testing.T, data []byte) [][]string {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}
