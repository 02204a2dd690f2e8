package extraction

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sinp.occitanie.fr/observations/source"
)

// Sheet is one metadata file of an archive.
type Sheet struct {
	Name string
	Text []byte
}

// nomenclatures maps type → code → label.
type nomenclatures map[string]map[string]string

func loadNomenclatures(ctx context.Context, db *pgxpool.Pool, types []string) (nomenclatures, error) {
	rows, err := db.Query(ctx, `SELECT type, code, label FROM oc_dat.v_extract_nomenclature WHERE type = ANY($1)`, types)
	if err != nil {
		return nil, fmt.Errorf("extraction: nomenclatures: %w", err)
	}
	n := nomenclatures{}
	var typ, code, label string
	_, err = pgx.ForEachRow(rows, []any{&typ, &code, &label}, func() error {
		if n[typ] == nil {
			n[typ] = map[string]string{}
		}
		n[typ][code] = label
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("extraction: nomenclatures: %w", err)
	}
	return n, nil
}

// descriptor describes every column (name, type, nomenclature, meaning,
// origin) and, under each coded column, the codes met in this archive with
// their labels, numerically ordered where codes are numbers; then the
// fields of the standard the extract leaves out, each with its reason.
func descriptor(l *layout, a *archive, n nomenclatures) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = ';'
	_ = w.Write([]string{"colonne", "type", "nomenclature", "code", "libelle", "signification", "origine"})
	coded := map[int]int{}
	for ci, idx := range l.coded {
		coded[idx] = ci
	}
	for _, c := range l.columns() {
		_ = w.Write([]string{c.CSV, string(c.Type), c.Nomenclature, "", "", c.Meaning, origin(c)})
		if c.Nomenclature == "" {
			continue
		}
		var met map[string]struct{}
		if c.field >= 0 {
			met = a.codes[coded[c.field]]
		} else {
			met = derivedCodes(a, c.group, c.index)
		}
		for _, code := range sortCodes(met) {
			label, ok := n[c.Nomenclature][code]
			if !ok {
				label = "(code absent de la nomenclature " + c.Nomenclature + ")"
			}
			_ = w.Write([]string{c.CSV, "", c.Nomenclature, code, label, "", ""})
		}
	}
	for _, o := range source.Omitted {
		_ = w.Write([]string{o.CSV, "", "", "", "", "Champ du standard non fourni : " + o.Reason, "absent"})
	}
	w.Flush()
	return b.Bytes()
}

// origin says where a column comes from, for the descriptor.
func origin(c csvColumn) string {
	switch c.Group {
	case source.Standard:
		return "standard Occurrence de Taxon v1.2.1"
	case source.Geometry:
		return "standard Occurrence de Taxon v1.2.1 (géométrie en WKT, EPSG:2154)"
	case source.Status:
		return "ajout : statut du taxon"
	}
	return "ajout de la plateforme"
}

// derivedCodes are the codes a derived column holds in the archive's rows
// (each code of an aligned list).
func derivedCodes(a *archive, group, index int) map[string]struct{} {
	// The column's place among the coded derived columns.
	at, i := -1, derivedIndex(group, index)
	for _, d := range source.DerivedColumns[:i+1] {
		if d.Nomenclature != "" {
			at++
		}
	}
	met := map[string]struct{}{}
	for coded := range a.derived {
		vals := strings.Split(coded, "\x00")
		if at >= len(vals) {
			continue
		}
		for _, code := range strings.Split(vals[at], "|") {
			if code != "" {
				met[code] = struct{}{}
			}
		}
	}
	return met
}

// sortCodes orders codes numerically when they are all numbers, else as
// text (0, 1, 2, 10 rather than 0, 1, 10, 2).
func sortCodes(set map[string]struct{}) []string {
	codes := slices.Collect(maps.Keys(set))
	numeric := true
	for _, c := range codes {
		if _, err := strconv.Atoi(c); err != nil {
			numeric = false
			break
		}
	}
	slices.SortFunc(codes, func(x, y string) int {
		if numeric {
			i, _ := strconv.Atoi(x)
			j, _ := strconv.Atoi(y)
			if i != j {
				return cmp.Compare(i, j)
			}
		}
		return strings.Compare(x, y)
	})
	return codes
}

// datasetSheets returns the metadata sheet of every dataset met and of the
// acquisition frameworks they belong to.
func datasetSheets(ctx context.Context, db *pgxpool.Pool, ids []string) ([]Sheet, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT * FROM oc_dat.v_extract_dataset WHERE id::text = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("extraction: dataset metadata: %w", err)
	}
	defer rows.Close()
	names := make([]string, len(rows.FieldDescriptions()))
	for i, fd := range rows.FieldDescriptions() {
		names[i] = fd.Name
	}
	var sheets []Sheet
	frameworks := map[string]bool{}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		var ds, ca bytes.Buffer
		var dsID, caID string
		fmt.Fprintf(&ds, "FICHE DE MÉTADONNÉES — JEU DE DONNÉES\n\n")
		fmt.Fprintf(&ca, "FICHE DE MÉTADONNÉES — CADRE D'ACQUISITION\n\n")
		for i, name := range names {
			v := text(vals[i])
			switch {
			case name == "id":
				dsID = v
			case name == "ca_id":
				caID = v
			}
			if strings.HasPrefix(name, "ca_") {
				fmt.Fprintf(&ca, "%s : %s\n", strings.TrimPrefix(name, "ca_"), v)
			} else {
				fmt.Fprintf(&ds, "%s : %s\n", name, v)
			}
		}
		fmt.Fprintf(&ds, "\nCadre d'acquisition : voir ca_%s.txt\n", caID)
		sheets = append(sheets, Sheet{Name: "jdd_" + dsID + ".txt", Text: ds.Bytes()})
		if !frameworks[caID] {
			frameworks[caID] = true
			sheets = append(sheets, Sheet{Name: "ca_" + caID + ".txt", Text: ca.Bytes()})
		}
	}
	return sheets, rows.Err()
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 {
			return x.Format(time.DateOnly)
		}
		return x.UTC().Format(time.RFC3339)
	case [16]byte:
		return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:16])
	case string:
		return strings.ReplaceAll(x, "\n", " ")
	}
	return fmt.Sprint(v)
}

// readmeData is what the readme says about a run.
type readmeData struct {
	Spec      Spec
	Perimeter string
	Archive   *archive
	Sheets    int
}

// readme is the archive's LISEZMOI.txt: the request, the perimeter, the
// files, the conditions of use and how to cite.
func readme(d readmeData) []byte {
	var b bytes.Buffer
	s, a := d.Spec, d.Archive
	kind := "F1 — données non sensibles à leur précision d'origine et données sensibles dégradées"
	if a.key.File == F2 {
		kind = "F2 — données SENSIBLES à leur précision d'origine, pôle " + a.key.Pole
	}
	fmt.Fprintf(&b, "SINP Occitanie — extraction de données d'observation\n")
	fmt.Fprintf(&b, "====================================================\n\n")
	fmt.Fprintf(&b, "Demande        : %s\n", s.Reference)
	fmt.Fprintf(&b, "Demandeur      : %s\n", s.Requester)
	fmt.Fprintf(&b, "Objet          : %s\n", s.Purpose)
	fmt.Fprintf(&b, "Instruite le   : %s\n", s.Stamp.UTC().Format(time.DateOnly))
	fmt.Fprintf(&b, "Contenu        : %s\n", kind)
	fmt.Fprintf(&b, "Périmètre      : %s\n", d.Perimeter)
	if s.From != "" || s.To != "" {
		fmt.Fprintf(&b, "Période        : %s — %s\n", orDash(s.From), orDash(s.To))
	}
	if len(s.Poles) > 0 {
		fmt.Fprintf(&b, "Pôles          : %s\n", strings.Join(s.Poles, ", "))
	}
	if len(s.CdRefs) > 0 {
		fmt.Fprintf(&b, "Taxons (cdRef) : %d taxons\n", len(s.CdRefs))
	}
	fmt.Fprintf(&b, "Tampon         : %s\n", yesNo(s.Buffer, "observations à moins de leur précision géométrique du périmètre incluses", "non"))
	fmt.Fprintf(&b, "\nFichiers (CSV UTF-8, séparateur « ; », géométrie WKT en Lambert-93, EPSG:2154)\n")
	parts := slices.Clone(a.order)
	slices.SortFunc(parts, func(x, y *partition) int { return strings.Compare(x.key.Name(), y.key.Name()) })
	for _, p := range parts {
		fmt.Fprintf(&b, "  %-40s %10d lignes\n", p.key.Name(), p.rows)
	}
	if len(parts) == 0 {
		fmt.Fprintf(&b, "  (aucune observation)\n")
	}
	fmt.Fprintf(&b, "  Chaque CSV a un .csvt (types des colonnes) et un .prj (système de coordonnées) pour GDAL et QGIS.\n")
	fmt.Fprintf(&b, "  %s : chaque colonne (type, sens, nomenclature) et les codes rencontrés avec leur libellé.\n", DescriptorName)
	fmt.Fprintf(&b, "  %s/ : %d fiches de métadonnées des jeux de données et cadres d'acquisition.\n", MetadataDir, d.Sheets)
	fmt.Fprintf(&b, "\nSensibilité\n")
	if a.key.File == F1 {
		fmt.Fprintf(&b, "  Les données sensibles (sensiNiveau 1 à 3) et les données privées (dSPublique = Pr) que leur\n")
		fmt.Fprintf(&b, "  producteur n'a pas ouvertes à la diffusion précise (diffusionNiveauPrecision autre que 5) sont\n")
		fmt.Fprintf(&b, "  dégradées : géométrie remplacée par celle de la commune, de la maille 10 km ou du département\n")
		fmt.Fprintf(&b, "  qui les contient, attributs précis vidés (lieu, altitudes, profondeurs, commentaires, contexte,\n")
		fmt.Fprintf(&b, "  regroupement, preuves), natureObjetGeo = In, typeInfoGeo* = 2, floutageExtraction = OUI.\n")
		fmt.Fprintf(&b, "  Le niveau « standard » (0) d'une donnée privée, ou son absence, vaut diffusion à la commune :\n")
		fmt.Fprintf(&b, "  la nomenclature NIV_PRECIS le définit comme une diffusion à la maille, à la ZNIEFF ou à la\n")
		fmt.Fprintf(&b, "  commune, seul le niveau 5 étant une diffusion telle quelle.\n")
		fmt.Fprintf(&b, "  Les données de niveau 4 (non diffusables) n'y figurent pas.\n")
	} else {
		fmt.Fprintf(&b, "  Ce fichier contient des données sensibles non dégradées, communiquées après avis du pôle.\n")
		fmt.Fprintf(&b, "  Elles ne doivent être ni rediffusées ni publiées à une précision supérieure à celle du fichier F1.\n")
	}
	fmt.Fprintf(&b, "\nFormat d'échange (standard Occurrence de Taxon v1.2.1)\n")
	fmt.Fprintf(&b, "  Les colonnes portent le nom que leur donne le standard ; les ajouts (statuts des taxons,\n")
	fmt.Fprintf(&b, "  nomValide, statutValidation, floutageExtraction...) et les champs non fournis, avec leur\n")
	fmt.Fprintf(&b, "  raison, sont listés dans %s (colonne « origine »).\n", DescriptorName)
	fmt.Fprintf(&b, "  dEEFloutage est la valeur du producteur (floutage avant l'envoi à la plateforme) ;\n")
	fmt.Fprintf(&b, "  floutageExtraction dit si cette extraction a dégradé la géométrie.\n")
	fmt.Fprintf(&b, "  Chaque rattachement (commune, maille, département, espace naturel) a ses champs compagnons :\n")
	fmt.Fprintf(&b, "  typeInfoGeo* vaut 1 quand l'objet est celui de l'observation (donnée rattachée à cet objet),\n")
	fmt.Fprintf(&b, "  2 quand il est déduit de la géométrie ou du floutage. Les valeurs multiples (codes, noms, types)\n")
	fmt.Fprintf(&b, "  sont séparées par « | », dans le même ordre. Une valeur absente est un champ vide.\n")
	if s.Excel {
		fmt.Fprintf(&b, "  Les CSV commencent par une marque d'ordre d'octets UTF-8 (BOM), pour Excel.\n")
	}
	fmt.Fprintf(&b, "\nConditions d'utilisation\n")
	fmt.Fprintf(&b, "  Usage limité à l'objet déclaré de la demande, dans le respect de la charte du SINP Occitanie et des\n")
	fmt.Fprintf(&b, "  conditions de diffusion de chaque jeu de données (voir les fiches de métadonnées).\n")
	fmt.Fprintf(&b, "\nCitation\n")
	fmt.Fprintf(&b, "  SINP Occitanie (%d). Extraction %s, données des pôles thématiques, DREAL Occitanie.\n",
		s.Stamp.Year(), s.Reference)
	fmt.Fprintf(&b, "  Citer en outre chaque jeu de données utilisé tel qu'indiqué dans sa fiche.\n")
	return b.Bytes()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
